#include "ledger/postgres_ledger.h"

#include <utility>

#include "ledger/detail/postgres.h"
#include "ledger/spill_file.h"

namespace sy::ledger {

core::Result<std::unique_ptr<PostgresLedger>> PostgresLedger::Open(const Options& options) {
  auto target = detail::ParsePgTarget(options.url);
  if (!target) return std::move(target).error();
  auto spill = OpenSpill(options.queue);
  if (!spill) return std::move(spill).error();
  auto writer =
      std::make_unique<detail::PgRecordWriter>(std::move(*target), options.connect_timeout);
  if (auto s = writer->Connect(); !s) return std::move(s).error();
  return std::unique_ptr<PostgresLedger>(
      new PostgresLedger(options.queue, std::move(writer), std::move(*spill)));
}

}  // namespace sy::ledger
