#include "core/secrets.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace sy::core {
namespace {

struct Span {
  size_t begin;
  size_t end;
};

}  // namespace

SecretScrubber::SecretScrubber(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {
  std::erase_if(secrets_, [](const std::string& s) { return s.empty(); });
  std::sort(secrets_.begin(), secrets_.end());
  secrets_.erase(std::unique(secrets_.begin(), secrets_.end()), secrets_.end());
}

std::string SecretScrubber::Scrub(std::string_view text) const {
  std::vector<Span> hits;
  for (const std::string& secret : secrets_) {
    // Restarting one byte after each hit finds overlapping occurrences ("aa" twice in "aaa").
    for (size_t at = text.find(secret); at != std::string_view::npos;
         at = text.find(secret, at + 1)) {
      hits.push_back({at, at + secret.size()});
    }
  }
  if (hits.empty()) return std::string(text);
  std::sort(hits.begin(), hits.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;  // text before this offset is in `out`
  size_t i = 0;
  while (i < hits.size()) {
    Span merged = hits[i++];
    while (i < hits.size() && hits[i].begin < merged.end)
      merged.end = std::max(merged.end, hits[i++].end);
    out.append(text.substr(copied, merged.begin - copied));
    out.append(kRedacted);
    copied = merged.end;
  }
  out.append(text.substr(copied));
  return out;
}

void SecretScrubber::ScrubError(Error& error) const {
  if (secrets_.empty()) return;
  error.message = Scrub(error.message);
  error.upstream_detail = Scrub(error.upstream_detail);
  error.param = Scrub(error.param);
}

}  // namespace sy::core
