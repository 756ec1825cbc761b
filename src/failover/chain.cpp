#include "failover/chain.h"

#include <algorithm>
#include <cstddef>
#include <random>

namespace sy::failover {

namespace {

// Refused credentials or an unknown model name are about that provider, not the request:
// another provider may well serve it, and this one is misconfigured or failing.
bool ProviderSideRejection(const core::Error& error) {
  return error.code == core::Errc::kUpstreamRejected &&
         (error.upstream_status == 401 || error.upstream_status == 403 ||
          error.upstream_status == 404);
}

}  // namespace

bool IsRetryable(const core::Error& error) {
  switch (error.code) {
    case core::Errc::kRateLimited:
    case core::Errc::kUpstreamTimeout:
    case core::Errc::kUpstreamUnavailable:
    case core::Errc::kVerificationFailed:  // a stronger model may well pass
      return true;
    case core::Errc::kUpstreamRejected:
      return ProviderSideRejection(error);
    default:
      return false;
  }
}

bool RetryInPlace(const core::Error& error) {
  if (error.code == core::Errc::kRateLimited) return !error.retry_after;
  return error.code == core::Errc::kUpstreamUnavailable;
}

bool CountsAgainstHealth(const core::Error& error) {
  switch (error.code) {
    case core::Errc::kUpstreamTimeout:
    case core::Errc::kUpstreamUnavailable:
      return true;
    case core::Errc::kUpstreamRejected:
      return ProviderSideRejection(error);
    default:
      return false;
  }
}

std::chrono::milliseconds Backoff(int retry, std::chrono::milliseconds base,
                                  std::chrono::milliseconds max, uint64_t random) {
  if (retry < 1 || base.count() <= 0 || max.count() <= 0) return std::chrono::milliseconds(0);
  const int shift = std::min(retry - 1, 30);
  const int64_t ceiling = std::min<int64_t>(max.count(), base.count() << shift);
  return std::chrono::milliseconds(
      static_cast<int64_t>(random % static_cast<uint64_t>(ceiling + 1)));
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kRejected:
      return "rejected";
    case Outcome::kFailed:
      break;
  }
  return "failed";
}

namespace detail {

std::optional<std::chrono::milliseconds> WaitForCooldown(SteadyTime until, SteadyTime now,
                                                         bool last, const ChainOptions& options) {
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  if (!last || wait > options.max_retry_after || until >= options.deadline) return std::nullopt;
  return wait;
}

Attempt CoolingSkip(const catalog::Deployment& d, SteadyTime until, SteadyTime now) {
  Attempt skip(d.model, Outcome::kSkipped);
  skip.deployment = &d;
  skip.error = core::MakeError(core::Errc::kRateLimited,
                               "skipped: cooling down after the upstream's retry-after");
  skip.error.retry_after = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  return skip;
}

bool NoneUsableAfter(const std::vector<Step>& steps, size_t i,
                     const std::vector<const catalog::Deployment*>& order, size_t j,
                     const ChainOptions& options) {
  const auto usable = [&](const catalog::Deployment* d) {
    return !options.prepare || static_cast<bool>(options.prepare(*d));
  };
  if (std::any_of(order.begin() + static_cast<std::ptrdiff_t>(j) + 1, order.end(), usable)) {
    return false;
  }
  for (size_t k = i + 1; k < steps.size(); ++k) {
    if (std::any_of(steps[k].deployments.begin(), steps[k].deployments.end(), usable)) {
      return false;
    }
  }
  return true;
}

Attempt UnpreparedSkip(const catalog::Deployment& d, core::Error why) {
  Attempt skip(d.model, Outcome::kSkipped, std::move(why));
  skip.deployment = &d;
  return skip;
}

Attempt OpenCircuitSkip(const catalog::Deployment& d, const Health& health) {
  Attempt skip(d.model, Outcome::kSkipped);
  skip.deployment = &d;
  skip.error = core::MakeError(core::Errc::kUpstreamUnavailable,
                               "skipped: circuit open for deployment " + d.key);
  if (auto until = health.OpenUntil(d.slot)) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(*until - SteadyTime::clock::now());
    skip.error.message +=
        " (" + std::to_string(std::max<int64_t>(left.count(), 0)) + " ms to the next probe)";
  }
  return skip;
}

uint64_t NextRandom(const ChainOptions& options) {
  if (options.random) return options.random();
  // SplitMix64 per thread, seeded once from the OS: load spreading and jitter, not secrets.
  thread_local uint64_t state = std::random_device{}() * 0x9E3779B97F4A7C15ULL + 1;
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::vector<const catalog::Deployment*> Ordered(const Step& step, const Health& health,
                                                uint64_t random) {
  if (step.deployments.size() <= 1) return step.deployments;
  const auto now = SteadyTime::clock::now();
  std::vector<routing::DeploymentView> views;
  views.reserve(step.deployments.size());
  for (const catalog::Deployment* d : step.deployments) {
    const auto snapshot = health.Read(d->slot, now);
    views.push_back({d->config->weight, snapshot.in_flight, snapshot.latency_ewma_ms});
  }
  std::vector<const catalog::Deployment*> out;
  out.reserve(views.size());
  for (size_t index : routing::OrderDeployments(step.strategy, views, random)) {
    out.push_back(step.deployments[index]);
  }
  return out;
}

void Report(Health& health, const catalog::Deployment& d, const core::Status& result, bool probe,
            SteadyTime started, SteadyTime ended) {
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(ended - started);
  const SteadyTime now = ended;
  if (result || result.error().code == core::Errc::kVerificationFailed) {
    health.NoteSuccess(d.slot, now, latency, probe);
  } else if (CountsAgainstHealth(result.error())) {
    health.NoteFailure(d.slot, now, latency, probe);
  } else {
    health.NoteAbandoned(d.slot, now, probe);
  }
}

std::chrono::milliseconds BackoffBefore(int retry, const ChainOptions& options) {
  const auto wait = Backoff(retry, options.backoff_base, options.backoff_max, NextRandom(options));
  const auto left =
      std::chrono::floor<std::chrono::milliseconds>(options.deadline - SteadyTime::clock::now());
  return std::clamp(wait, std::chrono::milliseconds(0),
                    std::max(left, std::chrono::milliseconds(0)));
}

Next AfterFailure(const core::Error& error, int retries_done, bool very_last,
                  const ChainOptions& options) {
  if (error.code == core::Errc::kVerificationFailed) return Next::kNextModel;
  if (!IsRetryable(error)) return Next::kStop;
  if (error.retry_after) return very_last ? Next::kRetryHere : Next::kNextDeployment;
  if (RetryInPlace(error) && retries_done < options.retries_per_deployment) return Next::kRetryHere;
  return Next::kNextDeployment;
}

bool MayStart(int sent, SteadyTime now, const ChainOptions& options) {
  if (sent >= options.max_attempts || now >= options.deadline) return false;
  return !(options.stopped && options.stopped());
}

namespace {

std::string Tried(const std::vector<Attempt>& attempts) {
  std::string tried;
  for (const auto& a : attempts) {
    if (!tried.empty()) tried += ", ";
    // A deployment is named only where the model has several: "deepseek-v4-flash/self-hosted".
    const bool several = a.deployment && a.model->deployments.size() > 1;
    tried += several ? a.deployment->key : a.model->id;
    if (a.outcome == Outcome::kRejected) {
      tried += " (rejected)";
    } else {
      tried += a.sent() ? " (" + std::string(ErrcName(a.error.code)) + ")" : " (skipped)";
    }
  }
  return tried;
}

// Every candidate was cooling: a 429 whose retry-after is the shortest time left.
core::Error AllCooling(const std::vector<Attempt>& attempts) {
  core::Error e = attempts.front().error;
  for (const auto& a : attempts) {
    if (a.error.retry_after && (!e.retry_after || *a.error.retry_after < *e.retry_after)) {
      e.retry_after = a.error.retry_after;
    }
  }
  e.message =
      "every model in the route is cooling down after its upstream's retry-after; "
      "tried: " +
      Tried(attempts);
  return e;
}

}  // namespace

core::Error ExhaustedError(const std::vector<Attempt>& attempts, bool deadline_passed) {
  if (attempts.empty()) {
    return core::MakeError(
        deadline_passed ? core::Errc::kUpstreamTimeout : core::Errc::kUpstreamUnavailable,
        "no model could be tried");
  }
  const auto last_sent =
      std::find_if(attempts.rbegin(), attempts.rend(), [](const Attempt& a) { return a.sent(); });
  const bool all_cooling = std::all_of(attempts.begin(), attempts.end(), [](const Attempt& a) {
    return !a.sent() && a.error.code == core::Errc::kRateLimited;
  });
  if (all_cooling && !deadline_passed) return AllCooling(attempts);
  // The last real error is the most telling; the message lists how many models were tried.
  core::Error last = last_sent != attempts.rend() ? last_sent->error : attempts.back().error;
  if (deadline_passed) {
    last.code = core::Errc::kUpstreamTimeout;
    last.message = "the request deadline passed; tried: " + Tried(attempts);
  } else if (last.code == core::Errc::kVerificationFailed) {
    last.message = "every candidate failed verification; last: " + last.message +
                   "; tried: " + Tried(attempts);
  } else {
    last.message = "every model in the route failed; tried: " + Tried(attempts) +
                   ". Last error: " + last.message;
  }
  return last;
}

}  // namespace detail
}  // namespace sy::failover
