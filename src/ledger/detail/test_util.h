// Test helpers for ledger/ tests only (header-only; not part of sy_ledger).
//
// TempDir: a fresh directory from mkdtemp, removed with its contents on destruction.
// Thread-safety: none needed; used from the test thread.
#pragma once

#include <cstdint>
#include <cstdlib>  // mkdtemp (POSIX)
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/money.h"
#include "ledger/detail/sqlite.h"
#include "ledger/record.h"

namespace sy::ledger::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sy_ledger_XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A record with every field set, distinct per `i`; `i % 3` attempts.
inline Record MakeRecord(int64_t i) {
  Record r;
  r.request_id = "req-" + std::to_string(i);
  r.started_at_ms = 1'700'000'000'000 + i;
  r.tenant = "tenant-" + std::to_string(i % 2);
  r.key_id = "key-" + std::to_string(i % 5);
  r.task_id = "task-" + std::to_string(i % 7);
  r.dialect = i % 2 == 0 ? "openai" : "anthropic";
  r.endpoint = "/v1/chat/completions";
  r.requested_model = "economy";
  r.chosen_model = "model-" + std::to_string(i % 4);
  r.provider = "provider-" + std::to_string(i % 4);
  for (int64_t a = 0; a < i % 3; ++a) {
    Attempt attempt;
    attempt.model = "model-" + std::to_string(a);
    attempt.provider = "provider-" + std::to_string(a);
    attempt.http_status = a == 0 && i % 3 == 2 ? 503 : 200;
    attempt.error_code = attempt.http_status == 503 ? "upstream_unavailable" : "";
    attempt.error_message = attempt.http_status == 503 ? "overloaded" : "";
    attempt.latency_ms = 10 + a;
    r.attempts.push_back(attempt);
  }
  r.usage.input_tokens = 100 + i;
  r.usage.cached_input_tokens = i % 10;
  r.usage.output_tokens = 50 + i;
  r.usage.reported = true;
  r.cost = core::Money::FromPico(1'000'003 * (i + 1));
  r.price_list = "standard";
  r.status = 200;
  r.route_reason = "alias economy";
  r.latency_ms = 100 + i;
  return r;
}

// Runs a single-integer query against `path` on a fresh read-only connection.
inline int64_t QueryInt(const std::string& path, const std::string& sql) {
  auto db = detail::Db::Open(path, SQLITE_OPEN_READONLY);
  if (!db) {
    ADD_FAILURE() << db.error().message;
    return -1;
  }
  auto value = db->QueryInt(sql);
  if (!value) {
    ADD_FAILURE() << value.error().message;
    return -1;
  }
  return *value;
}

}  // namespace sy::ledger::test
