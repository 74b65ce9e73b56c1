#include "reports/src/decimal.h"

#include <charconv>
#include <cmath>
#include <string>

#include "engine/base/error.h"

namespace doge::reports {

namespace {

__int128 Pow10(int n) {
  __int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

// Divides and rounds half away from zero.
__int128 DivRound(__int128 a, __int128 b) {
  bool neg = (a < 0) != (b < 0);
  __int128 ua = a < 0 ? -a : a, ub = b < 0 ? -b : b;
  __int128 q = ua / ub, r = ua % ub;
  if (2 * r >= ub) ++q;
  return neg ? -q : q;
}

}  // namespace

Decimal Decimal::FromDouble(double v) {
  if (!std::isfinite(v) || std::fabs(v) >= 1e13) {
    throw Error(ErrorKind::kInternal, "", "", "Decimal::FromDouble: value out of range");
  }
  // Shortest round-trip form in fixed notation: 0.2725 -> "0.2725", 1e-5 -> "0.00001".
  char buf[512];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (ec != std::errc()) {
    throw Error(ErrorKind::kInternal, "", "", "Decimal::FromDouble: to_chars failed");
  }
  return Parse(std::string_view(buf, end - buf));
}

Decimal Decimal::Parse(std::string_view text) {
  auto bad = [&]() {
    return Error(ErrorKind::kFormat, "", "", "expected a decimal number like 25.4, found '" +
                                                 std::string(text) + "'");
  };
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  __int128 units = 0;
  int frac_digits = -1;  // -1 while before the point
  int int_digits = 0;
  bool any_digit = false, round_up = false, dropped = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && frac_digits < 0) {
      frac_digits = 0;
      continue;
    }
    if (c < '0' || c > '9') throw bad();
    any_digit = true;
    if (frac_digits >= kScale) {
      // Beyond the representable precision: remember the first dropped digit for rounding.
      if (!dropped) round_up = c >= '5';
      dropped = true;
      continue;
    }
    units = units * 10 + (c - '0');
    if (frac_digits >= 0) {
      ++frac_digits;
    } else if (++int_digits > 13) {
      throw bad();  // |value| >= 1e13 would overflow the 128-bit mantissa at kScale digits
    }
  }
  if (!any_digit) throw bad();
  if (frac_digits < 0) frac_digits = 0;
  units *= Pow10(kScale - frac_digits);
  if (round_up) ++units;
  return FromUnits(neg ? -units : units);
}

Decimal Decimal::DividedBy(int n) const { return FromUnits(DivRound(units_, n)); }

double Decimal::ToDouble() const {
  return std::strtod(Format(kScale).c_str(), nullptr);
}

std::string Decimal::Format(int decimals, bool plus_sign) const {
  __int128 scaled = DivRound(units_, Pow10(kScale - decimals));
  bool neg = scaled < 0;
  __int128 mag = neg ? -scaled : scaled;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag > 0);
  if (decimals > 0) {
    if (static_cast<int>(digits.size()) <= decimals) {
      digits.insert(0, decimals + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - decimals, ".");
  }
  if (neg) return "-" + digits;  // scaled != 0 here, so never "-0.0"
  return plus_sign ? "+" + digits : digits;
}

}  // namespace doge::reports
