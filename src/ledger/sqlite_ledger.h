// SqliteLedger: the embedded ledger Sink, a BatchLedger (ledger/batch_ledger.h: the queue, the
// writer thread, the spill file and their guarantees) writing to one SQLite file (WAL,
// synchronous=NORMAL), each batch in ONE transaction with prepared statements. When SQLite fails
// (busy, locked, I/O, disk full) the batch is spilled, the error is logged to stderr and counted,
// and the writer tries again with exponential backoff (capped at max_backoff).
//
// Durability: with synchronous=NORMAL in WAL mode a committed batch survives a process crash, and
// a power loss may roll back the last committed transactions.
//
// Thread-safety and ownership: as BatchLedger; readers (QuerySpend) open their own connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "ledger/batch_ledger.h"

namespace sy::ledger {

class SqliteLedger final : public BatchLedger {
 public:
  struct Options {
    std::string path;           // created if missing; its directory must exist
    size_t batch_size = 512;    // max records per transaction
    size_t wake_records = 128;  // a shard holding this many (or batch_size) wakes the writer
    // While at most this many records wait, the writer yields its core every few rows.
    size_t yield_backlog = 512;
    std::chrono::milliseconds flush_interval{200};  // max time a record waits in the queue
    size_t queue_capacity = 65536;  // max records queued or being written; then Append spills
    std::chrono::milliseconds busy_timeout{1000};    // SQLite's own wait on a locked database
    std::chrono::milliseconds max_backoff{2000};     // cap of the retry backoff after an error
    std::chrono::milliseconds close_timeout{10000};  // max retrying a failing spill on Close
    std::string spill_path{};                        // "" = path + ".spill"
    uint64_t spill_max_bytes = uint64_t{1} << 30;
    std::chrono::hours retention{0};  // rows older are deleted (BatchLedger); 0 = keep every row
  };

  // Opens (creating if needed) the database, switches it to WAL, creates or migrates the schema
  // and starts the writer. Fails with kInternal and a message naming the path when the file
  // cannot be opened or created, is not a database, or has a newer schema; as BatchLedger::Start
  // for the spill file.
  // REQUIRES: batch_size > 0, wake_records > 0, queue_capacity > 0, flush_interval > 0.
  static core::Result<std::unique_ptr<SqliteLedger>> Open(const Options& options);

 private:
  using BatchLedger::BatchLedger;
};

// Creates the SQLite ledger file at `path` if it is missing and creates or migrates its schema,
// without starting a writer or opening a spill file: for the keys CLI and for a gateway whose
// request ledger is on PostgreSQL (keys, feedback and stored responses stay in the file). Safe
// while a gateway writes the file. Fails as Open does for the database.
core::Status PrepareSqliteFile(const std::string& path,
                               std::chrono::milliseconds busy_timeout = std::chrono::seconds(1));

}  // namespace sy::ledger
