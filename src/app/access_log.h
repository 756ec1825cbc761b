// app::AccessLog: one JSON line per recorded request (access_log in the config), written by a
// background thread so the request path never waits on stdout or a disk.
//
// A line carries what the ledger row carries minus the error text: ids, tenant and key id
// (never the key), dialect, endpoint, models, route, status, latency, tokens and exact cost;
// the prompt text (clipped to 1 KiB) only with log_prompts. Configured secrets are scrubbed
// from it like from everything else.
//
// Bounded: at most kMaxQueued lines wait; beyond that lines are dropped and counted (the log is
// for people, the ledger is the record and loses nothing). On Close (and destruction) queued
// lines are written and the file is flushed.
//
// Thread-safety: Write may be called from every worker.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.h"
#include "core/prompt.h"
#include "core/result.h"
#include "core/secrets.h"
#include "ledger/record.h"

namespace sy::app {

class AccessLog {
 public:
  static constexpr size_t kMaxQueued = 16384;

  // Opens access_log.path for appending ("-": standard output). Fails with kInternal naming
  // the path.
  static core::Result<std::unique_ptr<AccessLog>> Open(const config::AccessLogConfig& config,
                                                       const core::SecretScrubber& secrets);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Write(const ledger::Record& record, const core::Prompt& prompt);
  uint64_t dropped() const;

 private:
  AccessLog(std::FILE* out, bool owned, bool log_prompts, const core::SecretScrubber& secrets);
  void Run();

  std::FILE* const out_;
  const bool owned_;
  const bool log_prompts_;
  const core::SecretScrubber& secrets_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;  // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  uint64_t dropped_ = 0;           // guarded by mu_
  std::thread thread_;
};

// The line for one request, without the newline (exposed for tests).
std::string AccessLine(const ledger::Record& record, const core::Prompt* prompt);

}  // namespace sy::app
