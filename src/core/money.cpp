#include "core/money.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sy::core {
namespace {

constexpr uint64_t kMaxMagnitude = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// The text as it appears in a message: quoted, cut at 40 characters, control bytes as '?'.
std::string QuoteInput(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : text[i]);
  }
  if (text.size() > kMaxShown) out += "...";
  out += "\"";
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct Decimal {
  bool negative = false;
  uint64_t magnitude = 0;  // in units of 10^-scale
};

// Parses [-]digits[.digits] into a magnitude scaled by 10^scale. Rejects anything else, more
// than `scale` fractional digits, and magnitudes above INT64_MAX.
Result<Decimal> ParseDecimal(std::string_view text, int scale) {
  Decimal d;
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '-') {
    d.negative = true;
    rest.remove_prefix(1);
  }
  const size_t dot = rest.find('.');
  const std::string_view whole = rest.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
  const auto all_digits = [](std::string_view s) {
    for (char c : s) {
      if (!IsDigit(c)) return false;
    }
    return true;
  };
  if (whole.empty() || !all_digits(whole) || (dot != std::string_view::npos && frac.empty()) ||
      !all_digits(frac)) {
    return MakeError(Errc::kInvalidRequest, QuoteInput(text) + " is not a decimal number");
  }
  if (frac.size() > static_cast<size_t>(scale)) {
    return MakeError(Errc::kInvalidRequest, QuoteInput(text) + " has more than " +
                                                std::to_string(scale) + " decimal places");
  }
  const auto too_large = [&] {
    return MakeError(Errc::kInvalidRequest, QuoteInput(text) + " is too large");
  };
  uint64_t value = 0;
  for (int i = 0; i < scale + static_cast<int>(whole.size()); ++i) {
    const auto pos = static_cast<size_t>(i);
    char c = '0';
    if (pos < whole.size()) {
      c = whole[pos];
    } else if (pos - whole.size() < frac.size()) {
      c = frac[pos - whole.size()];
    }
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (kMaxMagnitude - digit) / 10) return too_large();
    value = value * 10 + digit;
  }
  d.magnitude = value;
  return d;
}

// `magnitude` scaled by 10^scale (0..12) as the shortest exact decimal. Written into one buffer:
// a ledger row and an answer's cost header each format a cost, and building it from three
// strings cost more than the rest of the row's number columns.
std::string FormatScaled(bool negative, uint64_t magnitude, int scale) {
  uint64_t unit = 1;
  for (int i = 0; i < scale; ++i) unit *= 10;
  std::array<char, 1 + 20 + 1 + 12> buf;  // sign, uint64's 20 digits, point, 12 decimals
  char* end = buf.data();
  if (negative && magnitude != 0) *end++ = '-';
  end = std::to_chars(end, buf.data() + buf.size(), magnitude / unit).ptr;
  if (uint64_t frac = magnitude % unit; frac != 0) {
    *end++ = '.';
    for (int i = scale - 1; i >= 0; --i, frac /= 10) end[i] = static_cast<char>('0' + frac % 10);
    end += scale;
    while (end[-1] == '0') --end;  // frac != 0: a nonzero digit stops it
  }
  return std::string(buf.data(), end);
}

// |value| without overflow for INT64_MIN.
uint64_t Magnitude(int64_t value) {
  return value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
}

}  // namespace

Result<Money> Money::Parse(std::string_view usd) {
  auto d = ParseDecimal(usd, 12);
  if (!d) return std::move(d).error();
  const auto pico = static_cast<int64_t>(d->magnitude);
  return Money(d->negative ? -pico : pico);
}

std::string Money::ToString() const { return FormatScaled(pico_ < 0, Magnitude(pico_), 12); }

std::string Money::ToFixed(int decimals) const {
  uint64_t scale = 1;  // pico-dollars per unit of the last decimal
  for (int i = decimals; i < 12; ++i) scale *= 10;
  const uint64_t magnitude = Magnitude(pico_);
  uint64_t units = magnitude / scale;
  if (scale > 1 && magnitude % scale >= scale / 2) ++units;  // half away from zero
  std::string out = FormatScaled(pico_ < 0, units, decimals);
  // FormatScaled trims zeros; a fixed format always shows `decimals` of them.
  if (decimals == 0) return out;
  const size_t dot = out.find('.');
  if (dot == std::string::npos) out += '.';
  const size_t have = dot == std::string::npos ? 0 : out.size() - dot - 1;
  out.append(static_cast<size_t>(decimals) - have, '0');
  return out;
}

std::string Money::ToCents() const { return ToFixed(2); }

Money DivideMoney(Money cost, int64_t n) {
  const int64_t pico = cost.pico();
  int64_t quotient = pico / n;
  const int64_t remainder = pico % n;  // has the sign of pico (n > 0)
  const int64_t abs_remainder = remainder < 0 ? -remainder : remainder;
  if (abs_remainder >= n - abs_remainder) quotient += pico < 0 ? -1 : 1;  // half away from zero
  return Money::FromPico(quotient);
}

Result<PricePerMTokens> PricePerMTokens::Parse(std::string_view usd_per_million) {
  auto d = ParseDecimal(usd_per_million, 6);
  if (!d) return std::move(d).error();
  if (d->negative && d->magnitude != 0) {
    return MakeError(Errc::kInvalidRequest, QuoteInput(usd_per_million) + " is negative");
  }
  return PricePerMTokens(static_cast<int64_t>(d->magnitude));
}

std::string PricePerMTokens::ToString() const {
  return FormatScaled(micro_ < 0, Magnitude(micro_), 6);
}

}  // namespace sy::core
