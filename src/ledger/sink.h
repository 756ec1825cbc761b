// ledger::Sink: where request records go. Append is called on the request path and must not
// block on I/O; implementations queue and write in the background.
//
// Thread-safety: Append may be called concurrently from every worker thread.
#pragma once

#include "ledger/record.h"

namespace sy::ledger {

class Sink {
 public:
  virtual ~Sink() = default;
  // Takes ownership of the record. Never waits on the database and never drops a record
  // silently: BatchLedger spills what its queue cannot hold to a local file, and counts (and
  // logs) a record as lost only when that file is full too (ledger/batch_ledger.h).
  virtual void Append(Record&& record) = 0;
};

}  // namespace sy::ledger
