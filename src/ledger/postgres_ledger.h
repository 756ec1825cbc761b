// PostgresLedger: the ledger Sink on PostgreSQL (database.url), for several gateway replicas
// recording into one database. A BatchLedger (ledger/batch_ledger.h: the queue, the writer
// thread, the spill file and their guarantees) whose writer sends each batch as multi-row INSERTs
// in ONE transaction (detail/postgres.h: schema, migrations, idempotence by request_id).
//
// Failure. When PostgreSQL is unreachable, restarts or refuses a batch, the writer spills what it
// holds to the local spill file, reconnects after a backoff (10 ms doubling to max_backoff), and
// once a batch commits replays the spill, oldest first. A replayed row that did reach the
// database (a crash between its commit and the spill's head update) is skipped by its
// request_id: nothing is lost or doubled. Only Open fails on an unreachable server: the schema
// must be known before the first write.
//
// Secrets: the URL's password never appears in a message or a log line.
// Thread-safety and ownership: as BatchLedger.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "ledger/batch_ledger.h"

namespace sy::ledger {

class PostgresLedger final : public BatchLedger {
 public:
  struct Options {
    std::string url;  // libpq URL: postgresql://user:password@host:port/dbname?sslmode=...
    std::chrono::seconds connect_timeout{5};
    QueueOptions queue;  // spill_path required
  };

  // Connects, creates or migrates the schema and starts the writer. Fails with kInvalidRequest
  // on a malformed URL or bad queue options, kInternal when the server cannot be reached, refuses
  // the credentials or holds a newer schema (the message names user@host:port/dbname).
  static core::Result<std::unique_ptr<PostgresLedger>> Open(const Options& options);

 private:
  using BatchLedger::BatchLedger;
};

}  // namespace sy::ledger
