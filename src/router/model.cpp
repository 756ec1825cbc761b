#include <algorithm>
#include <cmath>

#include "core/file.h"
#include "router/detail/model_file.h"
#include "router/router.h"

namespace sy::router {

struct Model::Impl {
  detail::ModelData data;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

core::Result<std::shared_ptr<const Model>> Model::Load(const std::string& path) {
  auto bytes = core::ReadRegularFile(path, kMaxModelFileBytes, "router model");
  if (!bytes) return std::move(bytes).error();
  return Parse(*bytes, path);
}

core::Result<std::shared_ptr<const Model>> Model::Parse(std::string_view bytes,
                                                        std::string_view name) {
  auto data = detail::Deserialize(bytes, name);
  if (!data) return std::move(data).error();
  auto impl = std::make_unique<Impl>();
  impl->data = std::move(*data);
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

double Model::Score(const core::Prompt& prompt, int task_type) const {
  return detail::ScoreWith(impl_->data, prompt, task_type);
}

double Model::ThresholdForShare(double strong_share) const {
  const std::vector<double>& table = impl_->data.calibration;
  if (!(strong_share > 0)) return std::nextafter(1.0, 2.0);  // above every score: none strong
  if (strong_share >= 1) return 0.0;                         // every score is >= 0
  const double position = (1.0 - strong_share) * static_cast<double>(table.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(position));
  if (lo + 1 >= table.size()) return table.back();
  const double t = position - static_cast<double>(lo);
  return table[lo] + (table[lo + 1] - table[lo]) * t;
}

double Model::ShareAtThreshold(double threshold) const {
  const std::vector<double>& table = impl_->data.calibration;
  if (std::isnan(threshold)) return 0.0;
  if (threshold <= table.front()) return 1.0;
  if (threshold > table.back()) return 0.0;
  // table[i - 1] < threshold <= table[i]: interpolate the position between them.
  const auto it = std::lower_bound(table.begin(), table.end(), threshold);
  const auto i = static_cast<size_t>(it - table.begin());
  const double a = table[i - 1];
  const double b = table[i];
  const double position = static_cast<double>(i - 1) + (threshold - a) / (b - a);
  return 1.0 - position / static_cast<double>(table.size() - 1);
}

const Metadata& Model::metadata() const { return impl_->data.metadata; }

}  // namespace sy::router
