#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "router/detail/model_file.h"
#include "router/router.h"

namespace sy::router {

struct Model::Impl {
  detail::ModelData data;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

core::Result<std::shared_ptr<const Model>> Model::Load(const std::string& path) {
  const auto fail = [&](const char* what) {
    return core::MakeError(core::Errc::kInvalidRequest, "router model " + path + ": " + what);
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail("no such file");
  if (std::filesystem::is_directory(path, ec)) return fail("is a directory, not a model file");
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return fail("cannot be opened");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail("cannot be read");
  return Parse(bytes, path);
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
