// CRC-32C (Castagnoli), the checksum of every frame in the local log.
//
// Chosen over zlib's CRC-32 because its error detection is better for the
// short burst errors a torn or bit-flipped sector produces, and because it is
// the checksum other logs (LevelDB, ext4 metadata, iSCSI) standardised on.
// Uses the CPU's CRC-32C instruction where there is one (x86-64 with SSE 4.2,
// checked at run time), else a portable slice-by-8 table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace duckmesh::bus::local {

// CRC-32C of `init` (the CRC of some preceding bytes, 0 for none) extended by
// `n` more bytes, so crc32c(a + b) == crc32c_extend(crc32c(a), b).
std::uint32_t crc32c_extend(std::uint32_t init, const void* data, std::size_t n);

// The table-driven version, whatever the CPU has (the two must agree).
std::uint32_t crc32c_extend_portable(std::uint32_t init, const void* data, std::size_t n);

inline std::uint32_t crc32c(std::string_view bytes) {
  return crc32c_extend(0, bytes.data(), bytes.size());
}

}  // namespace duckmesh::bus::local
