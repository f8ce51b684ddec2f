#include "common/decimal_text.hpp"

namespace duckmesh {

void append_scaled_decimal(ScaledInt128 scaled, unsigned scale, std::string& out) {
  __extension__ typedef unsigned __int128 UInt128;
  if (scaled < 0) out += '-';
  // The magnitude in unsigned arithmetic: -INT128_MIN does not fit.
  UInt128 magnitude = scaled < 0 ? 0 - static_cast<UInt128>(scaled) : static_cast<UInt128>(scaled);
  char digits[48];
  unsigned n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  // At least one integer digit and `scale` fraction digits.
  while (n < scale + 1) digits[n++] = '0';
  while (n > scale) out += digits[--n];
  if (scale > 0) {
    out += '.';
    while (n > 0) out += digits[--n];
  }
}

}  // namespace duckmesh
