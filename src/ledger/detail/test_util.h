// Test helpers for ledger/ tests only (header-only; not part of sy_ledger).
//
// TempDir: a fresh directory from mkdtemp, removed with its contents on destruction.
// Thread-safety: none needed; used from the test thread.
#pragma once

#include <cstdint>
#include <cstdlib>  // mkdtemp (POSIX)
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/money.h"
#include "ledger/detail/sqlite.h"
#include "ledger/feedback.h"
#include "ledger/record.h"

namespace sy::ledger::test {

// A rating: of request `request_id` or of task `task_id` (the other ""), by `tenant`.
inline FeedbackRow Rating(std::string id, std::string request_id, std::string task_id,
                          std::string tenant, std::string outcome,
                          std::optional<double> score = std::nullopt, int64_t at_ms = 0) {
  FeedbackRow f;
  f.id = std::move(id);
  f.request_id = std::move(request_id);
  f.task_id = std::move(task_id);
  f.tenant = std::move(tenant);
  f.outcome = std::move(outcome);
  f.score = score;
  f.created_at_ms = at_ms;
  return f;
}

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
  r.task_type = i % 2 == 0 ? "extraction" : "code";
  r.profile = "auto";
  r.rule = "rule-" + std::to_string(i % 3);
  r.latency_ms = 100 + i;
  return r;
}

// How many attempts MakeRecord(0) ... MakeRecord(n - 1) hold together.
inline int64_t ExpectedAttempts(int64_t n) {
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) total += i % 3;
  return total;
}

// Retention's scenario, the same on both engines: 20 requests that started in 2023
// (MakeRecord(0..19); req-3 made a shadow of req-2, so 19 live requests and one shadow) and four
// that started at `now_ms` (req-100..req-103, four attempts among them).
inline std::vector<Record> RetentionRecords(int64_t now_ms) {
  std::vector<Record> out;
  for (int64_t i = 0; i < 20; ++i) out.push_back(MakeRecord(i));
  out[3].shadow_of = "req-2";
  for (int64_t i = 100; i < 104; ++i) {
    out.push_back(MakeRecord(i));
    out.back().started_at_ms = now_ms;
  }
  return out;
}
inline constexpr int64_t kRetentionOldRequests = 19;
inline constexpr int64_t kRetentionNewAttempts = 4;

// Feedback on both sides of retention's cutoff, as SQL either engine runs: 'fb-old' created in
// 2023, 'fb-new' at `now_ms`.
inline std::string RetentionFeedbackSql(int64_t now_ms) {
  const std::string columns =
      "INSERT INTO feedback (id, request_id, task_id, tenant, key_id, outcome, score, "
      "user_retried, user_edited, comment, created_at_ms) VALUES ";
  return columns + "('fb-old', 'req-1', '', 'tenant-1', 'key-1', 'success', NULL, 0, 0, '', " +
         "1700000000001), ('fb-new', 'req-100', '', 'tenant-0', 'key-0', 'success', NULL, 0, 0, " +
         "'', " + std::to_string(now_ms) + ")";
}

// A ledger file as the v2 release left it (its complete DDL: v1 plus the v2 columns), with two
// requests (old-1 billed 1.234567890123 USD, old-2 failed) and old-1's attempt.
inline constexpr const char* kVersionTwoLedger = R"sql(
CREATE TABLE requests (
  id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, started_at_ms INTEGER NOT NULL,
  day TEXT NOT NULL, tenant TEXT NOT NULL, key_id TEXT NOT NULL, task_id TEXT NOT NULL,
  dialect TEXT NOT NULL, endpoint TEXT NOT NULL, requested_model TEXT NOT NULL,
  chosen_model TEXT NOT NULL, provider TEXT NOT NULL, input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL, cache_write_input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
  usage_reported INTEGER NOT NULL, cost_pico INTEGER NOT NULL, cost_usd TEXT NOT NULL,
  price_list TEXT NOT NULL, stream INTEGER NOT NULL, status INTEGER NOT NULL,
  error_code TEXT NOT NULL, error_message TEXT NOT NULL, route_reason TEXT NOT NULL,
  latency_ms INTEGER NOT NULL, ttft_ms INTEGER, attempts_count INTEGER NOT NULL,
  usage_estimated INTEGER NOT NULL DEFAULT 0);
CREATE INDEX requests_request_id ON requests(request_id);
CREATE INDEX requests_task_id ON requests(task_id);
CREATE INDEX requests_started_at ON requests(started_at_ms);
CREATE TABLE attempts (
  request_row INTEGER NOT NULL REFERENCES requests(id), request_id TEXT NOT NULL,
  idx INTEGER NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
  http_status INTEGER NOT NULL, error_code TEXT NOT NULL, error_message TEXT NOT NULL,
  latency_ms INTEGER NOT NULL, outcome TEXT NOT NULL DEFAULT '',
  input_tokens INTEGER NOT NULL DEFAULT 0, cached_input_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0, usage_estimated INTEGER NOT NULL DEFAULT 0,
  cost_pico INTEGER NOT NULL DEFAULT 0, cost_usd TEXT NOT NULL DEFAULT '0');
CREATE INDEX attempts_request_row ON attempts(request_row);
INSERT INTO requests VALUES (1, 'old-1', 1700000000000, '2023-11-14', 'acme', 'k', 't',
  'openai', '/v1/chat/completions', 'economy', 'gpt', 'openai', 100, 0, 0, 20, 0, 1,
  1234567890123, '1.234567890123', 'standard', 0, 200, '', '', 'alias economy', 50, NULL, 1, 0);
INSERT INTO requests VALUES (2, 'old-2', 1700000000001, '2023-11-14', 'acme', 'k', 't',
  'openai', '/v1/chat/completions', 'gpt', '', '', 0, 0, 0, 0, 0, 0, 0, '0', '', 0, 502,
  'upstream_unavailable', 'down', 'model', 9, NULL, 1, 0);
INSERT INTO attempts VALUES (1, 'old-1', 0, 'gpt', 'openai', 200, '', '', 40, 'ok', 100, 0, 0,
  20, 0, 0, 1234567890123, '1.234567890123');
PRAGMA user_version = 2;
)sql";

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
