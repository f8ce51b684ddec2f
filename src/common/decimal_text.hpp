// DECIMAL values as text: the stored integer (the value scaled by
// 10^scale) with exactly `scale` fraction digits. Shared by the DuckDB
// wrapper, which shows DECIMAL results, and ingest's binary payloads, whose
// canonical JSON spells decimals this way.
//
// Pure and thread-safe; allocates only by growing `out`.
#pragma once

#include <string>

namespace duckmesh {

// DECIMAL's stored integer (__extension__: GCC's own type, outside ISO C++).
__extension__ typedef __int128 ScaledInt128;

// "-12.50" for -1250 at scale 2, "0.001" for 1 at scale 3, "7" at scale 0;
// at least one integer digit, no sign on zero. Any 128-bit value, its most
// negative included.
void append_scaled_decimal(ScaledInt128 scaled, unsigned scale, std::string& out);

}  // namespace duckmesh
