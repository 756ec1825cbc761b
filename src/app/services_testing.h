// DefaultServices: the Services a stage test runs against when it needs nothing configured: an
// empty catalog and policy, no providers, an in-memory ledger, the system clock. A fixture
// derives from it before its own members, which may then be built from services_.
#pragma once

#include <memory>

#include "app/context.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/secrets.h"
#include "routing/health.h"
#include "routing/policy.h"
#include "tests/testutil/memory_ledger_sink.h"

namespace sy::app {

struct DefaultServices {
  std::shared_ptr<const catalog::Catalog> catalog_ =
      *catalog::Catalog::Build(std::make_shared<const config::Config>());
  ProviderSet providers_{{}};
  routing::Health health_ = routing::HealthFor(*catalog_);
  testutil::MemoryLedgerSink sink_;
  core::SystemClock clock_;
  core::SecretScrubber secrets_{{"sk-test-secret-key"}};
  routing::Policy policy_ = *routing::Policy::Build(*catalog_);
  Services services_{*catalog_, policy_, providers_, health_, sink_, clock_, secrets_};
};

}  // namespace sy::app
