#include "bus/local/log_format.hpp"

#include <bit>
#include <cstring>

#include "bus/local/crc32c.hpp"

namespace duckmesh::bus::local::format {
namespace {

void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}

// Little-endian on disk whatever the host.
template <typename T>
void put_le(std::string& out, T v) {
  char b[sizeof(T)];
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(b, &v, sizeof(T));
  } else {
    for (std::size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  out.append(b, sizeof(T));
}

void put_u32(std::string& out, std::uint32_t v) {
  put_le(out, v);
}

void put_u64(std::string& out, std::uint64_t v) {
  put_le(out, v);
}

void put_i64(std::string& out, std::int64_t v) {
  put_u64(out, static_cast<std::uint64_t>(v));
}

void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

std::uint32_t get_u32_at(std::string_view data, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + i])) << (8 * i);
  }
  return v;
}

void set_u32_at(std::string& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Bounds-checked reading; every getter returns false once input runs out.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool u8(std::uint8_t& v) {
    if (in_.size() - at_ < 1) return false;
    v = static_cast<std::uint8_t>(in_[at_++]);
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (in_.size() - at_ < 4) return false;
    v = get_u32_at(in_, at_);
    at_ += 4;
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (in_.size() - at_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[at_ + i])) << (8 * i);
    }
    at_ += 8;
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || in_.size() - at_ < n) return false;
    s.assign(in_.data() + at_, n);
    at_ += n;
    return true;
  }
  // A payload read from the log has its bytes to itself.
  bool str(Payload& p) {
    std::string s;
    if (!str(s)) return false;
    p = Payload(std::move(s));
    return true;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
};

std::string entry(EntryType type) {
  std::string out;
  put_u8(out, static_cast<std::uint8_t>(type));
  return out;
}

bool read_dead_body(Reader& r, DeadLetter& d) {
  return r.u64(d.record.position) && r.u32(d.record.attempts) && r.i64(d.dead_unix_us) &&
         r.str(d.reason) && r.i64(d.record.ingested_unix_us) && r.str(d.record.product) &&
         r.str(d.record.table) && r.str(d.record.idempotency_key) && r.str(d.record.payload);
}

}  // namespace

void seal_frame(std::string& out, std::size_t body_at, std::uint32_t magic) {
  const std::size_t header_at = body_at - kFrameHeaderBytes;
  const std::size_t body_len = out.size() - body_at;
  set_u32_at(out, header_at, magic);
  set_u32_at(out, header_at + 4, static_cast<std::uint32_t>(body_len));
  set_u32_at(out, header_at + 8, crc32c_extend(0, out.data() + body_at, body_len));
}

void append_frame(std::string& out, std::uint32_t magic, std::string_view body) {
  out.append(kFrameHeaderBytes, '\0');
  const std::size_t body_at = out.size();
  out.append(body);
  seal_frame(out, body_at, magic);
}

ParsedFrame parse_frame(std::string_view data, std::size_t offset, std::uint32_t magic) {
  ParsedFrame f;
  if (offset > data.size() || data.size() - offset < kFrameHeaderBytes) {
    f.defect = "short frame header";
    return f;
  }
  if (get_u32_at(data, offset) != magic) {
    f.defect = "bad frame magic";
    return f;
  }
  const std::uint32_t len = get_u32_at(data, offset + 4);
  if (len > kMaxBodyBytes) {
    f.defect = "frame length out of range";
    return f;
  }
  const std::size_t body_at = offset + kFrameHeaderBytes;
  if (data.size() - body_at < len) {
    f.defect = "short frame body";
    return f;
  }
  const std::string_view body = data.substr(body_at, len);
  if (crc32c(body) != get_u32_at(data, offset + 8)) {
    f.defect = "checksum mismatch";
    return f;
  }
  f.ok = true;
  f.body = body;
  f.next = body_at + len;
  return f;
}

std::size_t record_body_bytes(const Record& r) {
  return 5 * 8 + 4 * 4 + r.product.size() + r.table.size() + r.idempotency_key.size() +
         r.payload.size();
}

void encode_record(std::string& out, const Record& r, Position replayed_from,
                   std::uint64_t group_start, std::uint64_t group_end) {
  put_u64(out, r.position);
  put_i64(out, r.ingested_unix_us);
  put_u64(out, replayed_from);
  put_u64(out, group_start);
  put_u64(out, group_end);
  put_str(out, r.product);
  put_str(out, r.table);
  put_str(out, r.idempotency_key);
  put_str(out, r.payload);
}

std::optional<LogRecord> decode_record(std::string_view body) {
  Reader r(body);
  LogRecord out;
  if (r.u64(out.record.position) && r.i64(out.record.ingested_unix_us) &&
      r.u64(out.replayed_from) && r.u64(out.group_start) && r.u64(out.group_end) &&
      r.str(out.record.product) && r.str(out.record.table) && r.str(out.record.idempotency_key) &&
      r.str(out.record.payload) && r.done()) {
    return out;
  }
  return std::nullopt;
}

std::string encode_settle(const std::vector<Position>& positions) {
  std::string out = entry(EntryType::settle);
  put_u32(out, static_cast<std::uint32_t>(positions.size()));
  for (const Position p : positions) put_u64(out, p);
  return out;
}

std::string encode_dead(const DeadLetter& d) {
  std::string out = entry(EntryType::dead);
  put_u64(out, d.record.position);
  put_u32(out, d.record.attempts);
  put_i64(out, d.dead_unix_us);
  put_str(out, d.reason);
  put_i64(out, d.record.ingested_unix_us);
  put_str(out, d.record.product);
  put_str(out, d.record.table);
  put_str(out, d.record.idempotency_key);
  put_str(out, d.record.payload);
  return out;
}

std::string encode_undead(Position position, Position replayed_as) {
  std::string out = entry(EntryType::undead);
  put_u64(out, position);
  put_u64(out, replayed_as);
  return out;
}

std::string encode_snapshot_header() {
  std::string out = entry(EntryType::snapshot_header);
  put_u32(out, kSnapshotVersion);
  return out;
}

std::string encode_settled_ranges(const std::vector<std::pair<Position, Position>>& ranges) {
  std::string out = entry(EntryType::settled_ranges);
  put_u32(out, static_cast<std::uint32_t>(ranges.size()));
  for (const auto& [first, last] : ranges) {
    put_u64(out, first);
    put_u64(out, last);
  }
  return out;
}

std::string encode_snapshot_footer(std::uint32_t dead_count) {
  std::string out = entry(EntryType::snapshot_footer);
  put_u32(out, dead_count);
  return out;
}

std::optional<StateEntry> decode_state_entry(std::string_view body) {
  Reader r(body);
  std::uint8_t type = 0;
  if (!r.u8(type)) return std::nullopt;
  StateEntry e;
  e.type = static_cast<EntryType>(type);
  bool ok = false;
  switch (e.type) {
    case EntryType::settle: {
      std::uint32_t n = 0;
      ok = r.u32(n) && n <= body.size() / 8;
      for (std::uint32_t i = 0; ok && i < n; ++i) {
        Position p = 0;
        ok = r.u64(p);
        e.positions.push_back(p);
      }
      break;
    }
    case EntryType::dead: ok = read_dead_body(r, e.dead); break;
    case EntryType::undead: ok = r.u64(e.position) && r.u64(e.replayed_as); break;
    case EntryType::snapshot_header:
    case EntryType::snapshot_footer: ok = r.u32(e.number); break;
    case EntryType::settled_ranges: {
      std::uint32_t n = 0;
      ok = r.u32(n) && n <= body.size() / 16;
      for (std::uint32_t i = 0; ok && i < n; ++i) {
        Position first = 0, last = 0;
        ok = r.u64(first) && r.u64(last) && first >= 1 && first <= last;
        e.ranges.emplace_back(first, last);
      }
      break;
    }
  }
  if (!ok || !r.done()) return std::nullopt;
  return e;
}

}  // namespace duckmesh::bus::local::format
