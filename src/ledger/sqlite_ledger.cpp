#include "ledger/sqlite_ledger.h"

#include <cstdio>
#include <optional>
#include <utility>

#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"
#include "ledger/spill_file.h"

namespace sy::ledger {
namespace {

class SqliteWriter final : public BatchWriter {
 public:
  SqliteWriter(std::string path, detail::Db db, std::chrono::milliseconds busy_timeout)
      : path_(std::move(path)), db_(std::move(db)), busy_timeout_(busy_timeout) {}
  ~SqliteWriter() override { writer_.reset(); }  // statements before their connection

  core::Status Prepare() {
    auto writer = detail::RecordWriter::Create(db_);
    if (!writer) return detail::WithPath(path_, std::move(writer).error());
    writer_.emplace(std::move(*writer));
    return {};
  }

  core::Status WriteBatch(std::span<const Record> records, const WriteOptions& options) override {
    if (auto s = FollowThePath(); !s) return s;
    return writer_->WriteBatch(records, options);
  }

  core::Result<PruneCounts> Prune(int64_t before_ms, int64_t max_rows) override {
    if (auto s = FollowThePath(); !s) return std::move(s).error();
    auto counts = detail::PruneRows(db_, before_ms, max_rows);
    if (!counts) return detail::WithPath(path_, std::move(counts).error());
    return counts;
  }

  std::string Describe() const override { return "ledger database '" + path_ + "'"; }

 private:
  // Regression: a ledger file deleted (or renamed, or replaced) under the running gateway took
  // every later batch into an unlinked file, counted as written and lost, with no word. Before
  // each batch (one stat of the path) the writer opens the file at the path again, a new one
  // with the schema when it is gone, and says so. When that fails, the batch is spilled as any
  // failed write is, and the next one tries again.
  core::Status FollowThePath() {
    if (writer_ && !db_.HasMoved()) return {};
    if (writer_) {
      std::fprintf(stderr,
                   "switchyard ledger: %s was deleted, moved or replaced while the gateway ran; "
                   "writing to the file now at that path\n",
                   Describe().c_str());
      writer_.reset();  // its statements belong to the old connection
      // The old WAL sits at the path's WAL name, and SQLite does not checkpoint a moved file
      // when it closes it: emptied here into the old file (through its open descriptor, so a
      // renamed ledger keeps every committed row), it cannot be read by the new file as its own.
      // Closed before the path is opened again.
      (void)db_.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      db_ = detail::Db();
    }
    if (db_.get() == nullptr) {
      auto db = detail::OpenForWriting(path_, busy_timeout_);
      if (!db) return std::move(db).error();
      db_ = std::move(*db);
    }
    return Prepare();
  }

  std::string path_;
  detail::Db db_;
  std::chrono::milliseconds busy_timeout_;
  std::optional<detail::RecordWriter> writer_;
};

QueueOptions QueueOptionsOf(const SqliteLedger::Options& o) {
  return {.batch_size = o.batch_size,
          .wake_records = o.wake_records,
          .yield_backlog = o.yield_backlog,
          .flush_interval = o.flush_interval,
          .queue_capacity = o.queue_capacity,
          .max_backoff = o.max_backoff,
          .close_timeout = o.close_timeout,
          .spill_path = o.spill_path.empty() ? o.path + ".spill" : o.spill_path,
          .spill_max_bytes = o.spill_max_bytes,
          .retention = o.retention};
}

}  // namespace

core::Result<std::unique_ptr<SqliteLedger>> SqliteLedger::Open(const Options& options) {
  const QueueOptions queue = QueueOptionsOf(options);
  auto spill = OpenSpill(queue);  // first: checks the options
  if (!spill) return std::move(spill).error();
  auto db = detail::OpenForWriting(options.path, options.busy_timeout);
  if (!db) return std::move(db).error();
  auto writer = std::make_unique<SqliteWriter>(options.path, std::move(*db), options.busy_timeout);
  if (auto s = writer->Prepare(); !s) return std::move(s).error();
  return std::unique_ptr<SqliteLedger>(
      new SqliteLedger(queue, std::move(writer), std::move(*spill)));
}

core::Status PrepareSqliteFile(const std::string& path, std::chrono::milliseconds busy_timeout) {
  auto db = detail::OpenForWriting(path, busy_timeout);
  if (!db) return std::move(db).error();
  return {};
}

}  // namespace sy::ledger
