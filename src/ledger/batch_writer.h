// ledger::BatchWriter: one database engine's side of the ledger (SQLite, PostgreSQL). The engine-
// independent queue, spill and retry logic (ledger/batch_ledger.h) calls it from its one writer
// thread; it does the blocking database I/O there, never on a request worker.
//
// Thread-safety: one thread at a time (the ledger's writer thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"
#include "ledger/record.h"

namespace sy::ledger {

struct WriteOptions {
  // The records may already be in the database: a spill replayed after a crash that came
  // between the commit and the spill file's head update. Rows whose request_id is present are
  // skipped, with their attempts. (PostgreSQL always skips them; SQLite only when asked, since
  // the check costs it an index lookup per row.)
  bool replay = false;
  // > 0: yield the thread's core after every that many records (see batch_ledger.h).
  size_t yield_every = 0;
};

// What one retention pass deleted (BatchWriter::Prune).
struct PruneCounts {
  int64_t requests = 0;  // their attempts went with them
  int64_t shadows = 0;
  int64_t feedback = 0;
  int64_t total() const { return requests + shadows + feedback; }
};

class BatchWriter {
 public:
  virtual ~BatchWriter() = default;
  // Writes every record in ONE transaction: all land or none does, so the caller may write the
  // same batch again (or spill it) after a failure. Reconnects by itself when the engine has one.
  // kInvalidRequest: the database refused a value the batch holds and will refuse it again (the
  // ledger then isolates the record and sets it aside); any other error may pass on a retry.
  virtual core::Status WriteBatch(std::span<const Record> records, const WriteOptions& options) = 0;
  // Retention: deletes, in ONE transaction, at most `max_rows` each of the oldest requests that
  // started before `before_ms` (unix ms) with their attempts, of the shadows that started before
  // it and of the feedback created before it. Fewer than `max_rows` of each: nothing older is
  // left. The caller calls again for the rest, so that no transaction holds the database long.
  virtual core::Result<PruneCounts> Prune(int64_t before_ms, int64_t max_rows) = 0;
  // Names the database for log lines ("ledger database 'ledger.db'"); never holds a password.
  virtual std::string Describe() const = 0;
};

}  // namespace sy::ledger
