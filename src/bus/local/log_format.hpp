// On-disk format of the local log: frames, segment records, state entries.
//
// All integers are little-endian. Strings are a u32 byte length followed by
// the bytes.
//
// Frame (segments, state.log and state.snapshot alike):
//   magic u32 | body length u32 | CRC-32C of the body u32 | body
//
// Segment record body (segments/<first position, 20 digits>.log):
//   position u64 | ingested_unix_us i64 | replayed_from u64 (0: none)
//   | group_start u64 | group_end u64
//   | product str | table str | idempotency_key str | payload str
// group_start/group_end are the segment offsets of the first byte and one
// past the last byte of the group commit the record was written in (one
// write, one fdatasync). Recovery uses them to tell a torn, never
// acknowledged group at the tail from damage inside synced data.
// replayed_from names the dead letter the record was replayed from, which
// makes a replay atomic with its publish.
//
// State entry body (state.log, state.snapshot): type u8, then
//   settle (1):   count u32 | count × position u64
//   dead (2):     position u64 | attempts u32 | dead_unix_us i64 | reason str
//                 | ingested_unix_us i64 | product str | table str
//                 | idempotency_key str | payload str
//   undead (3):   position u64 | replayed as position u64
//   snapshot header (4): format version u32
//   settled ranges (5):  count u32 | count × (first u64, last u64)
//   snapshot footer (6): number of dead entries u32
// A snapshot is: header, settled ranges, the dead entries, footer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/ingest_bus.hpp"

namespace duckmesh::bus::local::format {

inline constexpr std::uint32_t kSegmentMagic = 0x314C4D44;  // bytes "DML1"
inline constexpr std::uint32_t kStateMagic = 0x31534D44;    // bytes "DMS1"
inline constexpr std::size_t kFrameHeaderBytes = 12;
// Largest body a frame may claim. Bounds what a damaged length field can make
// recovery read, and bounds a single record.
inline constexpr std::uint32_t kMaxBodyBytes = 256u << 20;
inline constexpr std::uint32_t kSnapshotVersion = 1;

// Appends a frame around the body bytes already at out[body_at, end). The
// caller reserved kFrameHeaderBytes at out[body_at - kFrameHeaderBytes).
void seal_frame(std::string& out, std::size_t body_at, std::uint32_t magic);

// Appends a whole frame for `body`.
void append_frame(std::string& out, std::uint32_t magic, std::string_view body);

struct ParsedFrame {
  bool ok = false;
  std::string_view body;    // valid when ok
  std::size_t next = 0;     // offset after the frame, valid when ok
  const char* defect = "";  // why not ok: short header, bad magic, ...
};

// Parses the frame at `offset` of `data`.
ParsedFrame parse_frame(std::string_view data, std::size_t offset, std::uint32_t magic);

// --- segment records ---

struct LogRecord {
  Record record;  // attempts is always 0
  Position replayed_from = 0;
  std::uint64_t group_start = 0;
  std::uint64_t group_end = 0;
};

// Size of the body encode_record appends (independent of the numeric fields).
std::size_t record_body_bytes(const Record& record);

void encode_record(std::string& out, const Record& record, Position replayed_from,
                   std::uint64_t group_start, std::uint64_t group_end);

// nullopt if the body does not decode (which, under a valid CRC, means the
// writer was broken or the format is unknown).
std::optional<LogRecord> decode_record(std::string_view body);

// --- state entries ---

enum class EntryType : std::uint8_t {
  settle = 1,
  dead = 2,
  undead = 3,
  snapshot_header = 4,
  settled_ranges = 5,
  snapshot_footer = 6,
};

struct StateEntry {
  EntryType type = EntryType::settle;
  std::vector<Position> positions;                    // settle
  std::vector<std::pair<Position, Position>> ranges;  // settled_ranges
  DeadLetter dead;                                    // dead
  Position position = 0;                              // undead
  Position replayed_as = 0;                           // undead
  std::uint32_t number = 0;                           // header version, footer count
};

std::string encode_settle(const std::vector<Position>& positions);
std::string encode_dead(const DeadLetter& dead);
std::string encode_undead(Position position, Position replayed_as);
std::string encode_snapshot_header();
std::string encode_settled_ranges(const std::vector<std::pair<Position, Position>>& ranges);
std::string encode_snapshot_footer(std::uint32_t dead_count);

// nullopt if the body does not decode.
std::optional<StateEntry> decode_state_entry(std::string_view body);

}  // namespace duckmesh::bus::local::format
