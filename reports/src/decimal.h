// Exact decimal arithmetic for the model-card numbers. The card rounds percentages half-up to one
// decimal (27.25 -> 27.3), but 0.2725 * 100 in binary floating point is 27.249999..., which would
// round down. So a fraction is first turned into its shortest round-trip decimal string
// ("0.2725", what Python and lighteval print), and scaling, means and rounding happen in decimal.
#ifndef DOGE_REPORTS_SRC_DECIMAL_H_
#define DOGE_REPORTS_SRC_DECIMAL_H_

#include <string>
#include <string_view>

namespace doge::reports {

// A fixed-point decimal: value = units * 10^-kScale. 24 fractional digits hold every shortest
// double repr of a fraction in [1e-7, 1] (at most 17 significant digits) plus the few extra
// digits a mean of a handful of values needs; |value| < 1e13 fits in the 128-bit mantissa.
class Decimal {
 public:
  static constexpr int kScale = 24;

  Decimal() = default;
  // Shortest round-trip decimal form of `v` (std::to_chars). Digits beyond kScale are rounded
  // half away from zero (only reachable for |v| < 1e-7). Throws Error(kInternal) for NaN, Inf or
  // |v| >= 1e13.
  static Decimal FromDouble(double v);
  // "25.4", "-0.03", "7"; throws Error(kFormat, "", "", ...) on anything else.
  static Decimal Parse(std::string_view text);

  Decimal operator+(const Decimal& o) const { return FromUnits(units_ + o.units_); }
  Decimal operator-(const Decimal& o) const { return FromUnits(units_ - o.units_); }
  Decimal Times100() const { return FromUnits(units_ * 100); }
  // Division by a small positive integer, rounded half away from zero at 10^-kScale (exact for
  // the mean of two values whose digits end before the last place).
  Decimal DividedBy(int n) const;
  bool operator<(const Decimal& o) const { return units_ < o.units_; }
  bool operator==(const Decimal& o) const { return units_ == o.units_; }

  double ToDouble() const;
  // Rounded half away from zero ("half-up" as the card rounds, mirrored for negative deltas) to
  // `decimals` places: Format(1) of 27.25 is "27.3", of -0.05 is "-0.1". `plus_sign` prefixes
  // "+" on values >= 0 after rounding (for deltas); a rounded zero never prints as "-0.0".
  std::string Format(int decimals, bool plus_sign = false) const;

 private:
  static Decimal FromUnits(__int128 u) {
    Decimal d;
    d.units_ = u;
    return d;
  }
  __int128 units_ = 0;
};

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_DECIMAL_H_
