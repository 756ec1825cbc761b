// router::Model::Parse on arbitrary model bodies: never crashes, never allocates more than the
// input can describe, and a model it accepts scores every prompt in [0, 1], deterministically,
// with thresholds and shares that invert each other's order. The input is the file's body: the
// harness adds the header and the SHA-256, or nearly every mutation would only exercise the
// checksum.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/prompt.h"
#include "fuzz_check.h"
#include "router/detail/model_file.h"
#include "router/detail/sha256.h"
#include "router/router.h"

namespace {

template <typename T>
void Append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

std::string FileOf(std::string_view body) {
  std::string file(sy::router::detail::kMagic);
  Append(file, sy::router::kFormatVersion);
  Append(file, uint32_t{0});
  Append(file, static_cast<uint64_t>(body.size()));
  file.append(body);
  const auto digest = sy::router::detail::Sha256(file);
  file.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto model = sy::router::Model::Parse(FileOf(sy::fuzz::AsText(data, size)), "fuzz");
  if (!model) {
    sy::fuzz::Check(model.error().code == sy::core::Errc::kInvalidRequest, "refusal is 400");
    sy::fuzz::Check(model.error().message.rfind("router model fuzz: ", 0) == 0,
                    "a refusal names the file");
    return 0;
  }
  const sy::router::Model& m = **model;
  for (const std::string_view text :
       {"What is 17 * 23? Show your steps.", "Which?\nA. one\nB. two\nC. three\nD. four", ""}) {
    const sy::core::Prompt prompt = sy::core::SingleUserPrompt(text);
    for (const int task_type : {sy::router::kNoTaskType, 4, 11, 99}) {
      const double score = m.Score(prompt, task_type);
      sy::fuzz::Check(score >= 0 && score <= 1, "a score is in [0, 1]");
      sy::fuzz::Check(score == m.Score(prompt, task_type), "scoring is deterministic");
    }
  }
  const double low = m.ThresholdForShare(0.8);
  const double high = m.ThresholdForShare(0.2);
  sy::fuzz::Check(low <= high, "a larger share never needs a higher threshold");
  sy::fuzz::Check(m.ShareAtThreshold(low) >= m.ShareAtThreshold(high), "shares follow thresholds");
  return 0;
}
