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
  // Takes ownership of the record. Never drops it silently: when the queue is full the caller
  // waits (backpressure) rather than losing a record.
  virtual void Append(Record&& record) = 0;
};

}  // namespace sy::ledger
