// Arrow IPC streaming format (application/vnd.apache.arrow.stream),
// written by hand: a Schema message, one RecordBatch message per chunk the
// executor hands over, and the end-of-stream marker.
//
// Each message is framed as the columnar format specifies: the
// continuation marker 0xFFFFFFFF, the int32 length of the FlatBuffers
// metadata (padded so that the body starts 8-byte aligned), the metadata,
// then the body, whose buffers each start at a multiple of 8. All integers
// are little-endian; the encoder refuses to build on a big-endian host.
//
// Column types: BOOLEAN -> Bool, INTEGER -> Int32, BIGINT -> Int64,
// UBIGINT -> UInt64, DOUBLE -> Float64, VARCHAR -> Utf8, DATE -> Date(DAY),
// TIMESTAMP -> Timestamp(MICROSECOND), TIMESTAMP WITH TIME ZONE ->
// Timestamp(MICROSECOND, "UTC"), DECIMAL(p,s) -> Decimal128(p,s). Every
// other type becomes Utf8 holding DuckDB's text of the value
// (VectorReader::to_text, what `CAST(x AS VARCHAR)` prints), so that a
// reader gets every column even where no Arrow type is mapped here; types
// the DuckDB reader cannot read fail as in the other encodings.
#include "query/encoders/arrow.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "duck/value.hpp"

namespace duckmesh::query::encoding {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the Arrow encoder writes host integers as little-endian bytes");

// ---- A minimal FlatBuffers writer ----
//
// The metadata is a tree of tables, strings and vectors, built in memory
// and laid out front to back: a table, then its vtable, then the objects
// it refers to, so that every uoffset points forward as FlatBuffers
// requires. Every scalar is written, defaults included.

struct FbNode;

struct FbField {
  std::uint16_t slot = 0;
  std::string scalar;         // the scalar's bytes, when `child` is empty
  std::vector<FbNode> child;  // zero or one node referred to by offset
};

struct FbNode {
  enum class Kind { table, string, table_vector, struct_vector };
  Kind kind = Kind::table;
  std::vector<FbField> fields;  // table
  std::string bytes;            // string, or struct_vector elements
  std::size_t count = 0;        // struct_vector
  std::vector<FbNode> items;    // table_vector

  template <class T>
  FbNode& scalar(std::uint16_t slot, T value) {
    FbField f;
    f.slot = slot;
    f.scalar.resize(sizeof(T));
    std::memcpy(f.scalar.data(), &value, sizeof(T));
    fields.push_back(std::move(f));
    return *this;
  }
  FbNode& child(std::uint16_t slot, FbNode node) {
    FbField f;
    f.slot = slot;
    f.child.push_back(std::move(node));
    fields.push_back(std::move(f));
    return *this;
  }
};

FbNode fb_table() {
  return {};
}

FbNode fb_string(std::string_view text) {
  FbNode n;
  n.kind = FbNode::Kind::string;
  n.bytes = text;
  return n;
}

FbNode fb_tables(std::vector<FbNode> items) {
  FbNode n;
  n.kind = FbNode::Kind::table_vector;
  n.items = std::move(items);
  return n;
}

// Elements of 8-byte-aligned structs, already serialised.
FbNode fb_structs(std::string bytes, std::size_t count) {
  FbNode n;
  n.kind = FbNode::Kind::struct_vector;
  n.bytes = std::move(bytes);
  n.count = count;
  return n;
}

template <class T>
void put(std::string& out, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.append(raw, sizeof(T));
}

template <class T>
void put_at(std::string& out, std::size_t at, T value) {
  std::memcpy(out.data() + at, &value, sizeof(T));
}

void align(std::string& out, std::size_t alignment) {
  while (out.size() % alignment != 0) out.push_back('\0');
}

// Appends `node` to `out`; returns where it starts (what offsets point to).
std::size_t fb_write(std::string& out, const FbNode& node) {
  switch (node.kind) {
    case FbNode::Kind::string: {
      align(out, 4);
      const std::size_t at = out.size();
      put(out, static_cast<std::uint32_t>(node.bytes.size()));
      out += node.bytes;
      out.push_back('\0');
      return at;
    }
    case FbNode::Kind::struct_vector: {
      // The length sits right before the 8-byte-aligned elements.
      while ((out.size() + 4) % 8 != 0) out.push_back('\0');
      const std::size_t at = out.size();
      put(out, static_cast<std::uint32_t>(node.count));
      out += node.bytes;
      return at;
    }
    case FbNode::Kind::table_vector: {
      align(out, 4);
      const std::size_t at = out.size();
      put(out, static_cast<std::uint32_t>(node.items.size()));
      const std::size_t slots = out.size();
      out.append(4 * node.items.size(), '\0');
      for (std::size_t i = 0; i < node.items.size(); ++i) {
        const std::size_t item = fb_write(out, node.items[i]);
        const std::size_t slot = slots + 4 * i;
        put_at(out, slot, static_cast<std::uint32_t>(item - slot));
      }
      return at;
    }
    case FbNode::Kind::table: break;
  }
  // Table: soffset to the vtable, then the fields, each aligned to its size
  // (offsets are 4 bytes); 8-byte alignment of the table keeps every
  // scalar aligned in the buffer.
  align(out, 8);
  const std::size_t table = out.size();
  put(out, std::int32_t{0});
  std::uint16_t max_slot = 0;
  std::vector<std::uint16_t> field_at(node.fields.size());
  std::vector<std::size_t> offset_at(node.fields.size());
  for (std::size_t i = 0; i < node.fields.size(); ++i) {
    const FbField& f = node.fields[i];
    max_slot = std::max<std::uint16_t>(max_slot, static_cast<std::uint16_t>(f.slot + 1));
    const std::size_t size = f.child.empty() ? f.scalar.size() : 4;
    align(out, size);
    field_at[i] = static_cast<std::uint16_t>(out.size() - table);
    offset_at[i] = out.size();
    if (f.child.empty()) {
      out += f.scalar;
    } else {
      put(out, std::uint32_t{0});
    }
  }
  const auto table_size = static_cast<std::uint16_t>(out.size() - table);
  align(out, 2);
  const std::size_t vtable = out.size();
  put(out, static_cast<std::uint16_t>(4 + 2 * max_slot));
  put(out, table_size);
  std::vector<std::uint16_t> slots(max_slot, 0);
  for (std::size_t i = 0; i < node.fields.size(); ++i) slots[node.fields[i].slot] = field_at[i];
  for (std::uint16_t s : slots) put(out, s);
  put_at(out, table,
         static_cast<std::int32_t>(static_cast<std::int64_t>(table) -
                                   static_cast<std::int64_t>(vtable)));
  for (std::size_t i = 0; i < node.fields.size(); ++i) {
    if (node.fields[i].child.empty()) continue;
    const std::size_t child = fb_write(out, node.fields[i].child.front());
    put_at(out, offset_at[i], static_cast<std::uint32_t>(child - offset_at[i]));
  }
  return table;
}

// A finished FlatBuffer: the root offset, then the tree.
std::string fb_finish(const FbNode& root) {
  std::string out;
  put(out, std::uint32_t{0});
  const std::size_t at = fb_write(out, root);
  put_at(out, 0, static_cast<std::uint32_t>(at));
  return out;
}

// ---- Arrow metadata (Schema.fbs, Message.fbs) ----

constexpr std::int16_t kMetadataV5 = 4;
constexpr std::uint8_t kHeaderSchema = 1;
constexpr std::uint8_t kHeaderRecordBatch = 3;

// Type union tags.
constexpr std::uint8_t kTypeInt = 2;
constexpr std::uint8_t kTypeFloatingPoint = 3;
constexpr std::uint8_t kTypeUtf8 = 5;
constexpr std::uint8_t kTypeBool = 6;
constexpr std::uint8_t kTypeDecimal = 7;
constexpr std::uint8_t kTypeDate = 8;
constexpr std::uint8_t kTypeTimestamp = 10;

constexpr std::int16_t kPrecisionDouble = 2;
constexpr std::int16_t kDateUnitDay = 0;
constexpr std::int16_t kTimeUnitMicrosecond = 2;

// How one column is laid out in Arrow.
enum class ColumnKind {
  boolean,
  int32,
  int64,
  uint64,
  float64,
  utf8,
  date,
  timestamp,
  timestamp_utc,
  decimal,
  text
};

struct ArrowColumn {
  ColumnKind kind = ColumnKind::text;
  int precision = 0;  // decimal
  int scale = 0;      // decimal
};

// DuckDB's type name ("DECIMAL(18,3)") to the Arrow layout.
ArrowColumn arrow_column(const std::string& type) {
  if (type == "BOOLEAN") return {ColumnKind::boolean};
  if (type == "INTEGER") return {ColumnKind::int32};
  if (type == "BIGINT") return {ColumnKind::int64};
  if (type == "UBIGINT") return {ColumnKind::uint64};
  if (type == "DOUBLE") return {ColumnKind::float64};
  if (type == "VARCHAR") return {ColumnKind::utf8};
  if (type == "DATE") return {ColumnKind::date};
  if (type == "TIMESTAMP") return {ColumnKind::timestamp};
  if (type == "TIMESTAMP WITH TIME ZONE" || type == "TIMESTAMPTZ") {
    return {ColumnKind::timestamp_utc};
  }
  int precision = 0;
  int scale = 0;
  char tail = '\0';
  if (std::sscanf(type.c_str(), "DECIMAL(%d,%d%c", &precision, &scale, &tail) == 3 && tail == ')') {
    return {ColumnKind::decimal, precision, scale};
  }
  return {ColumnKind::text};
}

// The duckdb_type the chunk must hold for `kind`; text takes any.
bool chunk_type_matches(ColumnKind kind, duckdb_type type) {
  switch (kind) {
    case ColumnKind::boolean: return type == DUCKDB_TYPE_BOOLEAN;
    case ColumnKind::int32: return type == DUCKDB_TYPE_INTEGER;
    case ColumnKind::int64: return type == DUCKDB_TYPE_BIGINT;
    case ColumnKind::uint64: return type == DUCKDB_TYPE_UBIGINT;
    case ColumnKind::float64: return type == DUCKDB_TYPE_DOUBLE;
    case ColumnKind::utf8: return type == DUCKDB_TYPE_VARCHAR;
    case ColumnKind::date: return type == DUCKDB_TYPE_DATE;
    case ColumnKind::timestamp: return type == DUCKDB_TYPE_TIMESTAMP;
    case ColumnKind::timestamp_utc: return type == DUCKDB_TYPE_TIMESTAMP_TZ;
    case ColumnKind::decimal: return type == DUCKDB_TYPE_DECIMAL;
    case ColumnKind::text: return true;
  }
  return false;
}

FbNode arrow_field(const ColumnInfo& info, const ArrowColumn& column) {
  std::uint8_t tag = kTypeUtf8;
  FbNode type = fb_table();
  switch (column.kind) {
    case ColumnKind::boolean: tag = kTypeBool; break;
    case ColumnKind::int32:
      tag = kTypeInt;
      type.scalar<std::int32_t>(0, 32).scalar<std::uint8_t>(1, 1);
      break;
    case ColumnKind::int64:
      tag = kTypeInt;
      type.scalar<std::int32_t>(0, 64).scalar<std::uint8_t>(1, 1);
      break;
    case ColumnKind::uint64:
      tag = kTypeInt;
      type.scalar<std::int32_t>(0, 64).scalar<std::uint8_t>(1, 0);
      break;
    case ColumnKind::float64:
      tag = kTypeFloatingPoint;
      type.scalar<std::int16_t>(0, kPrecisionDouble);
      break;
    case ColumnKind::utf8:
    case ColumnKind::text: tag = kTypeUtf8; break;
    case ColumnKind::date:
      tag = kTypeDate;
      type.scalar<std::int16_t>(0, kDateUnitDay);
      break;
    case ColumnKind::timestamp:
      tag = kTypeTimestamp;
      type.scalar<std::int16_t>(0, kTimeUnitMicrosecond);
      break;
    case ColumnKind::timestamp_utc:
      tag = kTypeTimestamp;
      type.scalar<std::int16_t>(0, kTimeUnitMicrosecond).child(1, fb_string("UTC"));
      break;
    case ColumnKind::decimal:
      tag = kTypeDecimal;
      type.scalar<std::int32_t>(0, column.precision)
          .scalar<std::int32_t>(1, column.scale)
          .scalar<std::int32_t>(2, 128);
      break;
  }
  FbNode field = fb_table();
  field.child(0, fb_string(info.name))
      .scalar<std::uint8_t>(1, 1)  // nullable
      .scalar<std::uint8_t>(2, tag)
      .child(3, std::move(type))
      .child(5, fb_tables({}));
  return field;
}

void set_bit(std::string& bitmap, std::size_t i) {
  bitmap[i / 8] = static_cast<char>(static_cast<unsigned char>(bitmap[i / 8]) | (1u << (i % 8)));
}

class ArrowEncoder final : public RowEncoder {
 public:
  explicit ArrowEncoder(OutputBuffer& out) : out_(out) {}

  void begin(const std::vector<ColumnInfo>& columns) override {
    std::vector<FbNode> fields;
    fields.reserve(columns.size());
    for (const ColumnInfo& info : columns) {
      columns_.push_back(arrow_column(info.type));
      fields.push_back(arrow_field(info, columns_.back()));
    }
    FbNode schema = fb_table();
    schema
        .scalar<std::int16_t>(0, 0)  // little-endian
        .child(1, fb_tables(std::move(fields)));
    write_message(kHeaderSchema, std::move(schema), {}, 0);
  }

  void rows(const duck::DataChunk& chunk, std::size_t count) override {
    std::string nodes;
    std::string buffers;
    std::vector<std::string> body;
    for (idx_t c = 0; c < chunk.column_count(); ++c) {
      const duck::VectorReader column = chunk.column(c);
      const ArrowColumn& arrow = columns_.at(c);
      if (!chunk_type_matches(arrow.kind, column.type_id())) {
        throw Error(ErrorCode::internal, "column " + std::to_string(c) + " changed type to " +
                                             column.type_name() + " within the result");
      }
      std::int64_t nulls = 0;
      std::string validity((count + 7) / 8, '\0');
      for (std::size_t r = 0; r < count; ++r) {
        if (column.is_null(r)) {
          ++nulls;
        } else {
          set_bit(validity, r);
        }
      }
      put(nodes, static_cast<std::int64_t>(count));
      put(nodes, nulls);
      // A column without NULLs may leave its validity buffer empty.
      body.push_back(nulls > 0 ? std::move(validity) : std::string());
      append_values(body, column, arrow, count);
    }
    std::size_t offset = 0;
    for (const std::string& b : body) {
      put(buffers, static_cast<std::int64_t>(offset));
      put(buffers, static_cast<std::int64_t>(b.size()));
      offset += (b.size() + 7) / 8 * 8;
    }
    FbNode batch = fb_table();
    batch.scalar<std::int64_t>(0, static_cast<std::int64_t>(count))
        .child(1, fb_structs(std::move(nodes), chunk.column_count()))
        .child(2, fb_structs(std::move(buffers), body.size()));
    write_message(kHeaderRecordBatch, std::move(batch), body, offset);
    out_.maybe_flush();
  }

  void end(std::size_t, bool, double, std::string_view) override {
    std::string& b = out_.buffer();
    put(b, std::uint32_t{0xFFFFFFFF});
    put(b, std::uint32_t{0});
  }

 private:
  // Data buffers of one column after its validity bitmap. NULL slots hold
  // zeros (or an empty string).
  static void append_values(std::vector<std::string>& body, const duck::VectorReader& column,
                            const ArrowColumn& arrow, std::size_t count) {
    std::string data;
    switch (arrow.kind) {
      case ColumnKind::boolean:
        data.assign((count + 7) / 8, '\0');
        for (std::size_t r = 0; r < count; ++r) {
          if (!column.is_null(r) && column.get_bool(r)) set_bit(data, r);
        }
        break;
      case ColumnKind::int32:
        for (std::size_t r = 0; r < count; ++r) {
          put(data, column.is_null(r) ? std::int32_t{0} : column.get_int32(r));
        }
        break;
      case ColumnKind::int64:
        for (std::size_t r = 0; r < count; ++r) {
          put(data, column.is_null(r) ? std::int64_t{0} : column.get_int64(r));
        }
        break;
      case ColumnKind::uint64:
        for (std::size_t r = 0; r < count; ++r) {
          put(data, column.is_null(r) ? std::uint64_t{0} : column.get_uint64(r));
        }
        break;
      case ColumnKind::float64:
        for (std::size_t r = 0; r < count; ++r) {
          put(data, column.is_null(r) ? 0.0 : column.get_double(r));
        }
        break;
      case ColumnKind::date:
        for (std::size_t r = 0; r < count; ++r) {
          put(data, column.is_null(r) ? std::int32_t{0} : column.get_date(r).days);
        }
        break;
      case ColumnKind::timestamp:
      case ColumnKind::timestamp_utc:
        for (std::size_t r = 0; r < count; ++r) {
          put(data, column.is_null(r) ? std::int64_t{0} : column.get_timestamp(r).micros);
        }
        break;
      case ColumnKind::decimal:
        for (std::size_t r = 0; r < count; ++r) {
          // Little-endian two's complement, as the host holds __int128.
          put(data, column.is_null(r) ? duck::Int128{0} : column.get_decimal(r).value);
        }
        break;
      case ColumnKind::utf8:
      case ColumnKind::text: {
        std::string offsets;
        put(offsets, std::int32_t{0});
        for (std::size_t r = 0; r < count; ++r) {
          if (!column.is_null(r)) {
            if (arrow.kind == ColumnKind::utf8) {
              data += column.get_string_view(r);
            } else {
              data += column.to_text(r);
            }
          }
          if (data.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
            throw Error(ErrorCode::invalid_input,
                        "a result chunk holds more than 2 GiB of " + column.type_name() +
                            " text in one column, beyond what an Arrow Utf8 batch can hold");
          }
          put(offsets, static_cast<std::int32_t>(data.size()));
        }
        body.push_back(std::move(offsets));
        break;
      }
    }
    body.push_back(std::move(data));
  }

  // Frames one message: marker, metadata length, metadata padded to 8,
  // then the body buffers, each padded to 8 (`body_length` in all).
  void write_message(std::uint8_t header_type, FbNode header, const std::vector<std::string>& body,
                     std::size_t body_length) {
    FbNode message = fb_table();
    message.scalar<std::int16_t>(0, kMetadataV5)
        .scalar<std::uint8_t>(1, header_type)
        .child(2, std::move(header))
        .scalar<std::int64_t>(3, static_cast<std::int64_t>(body_length));
    std::string metadata = fb_finish(message);
    align(metadata, 8);
    std::string& b = out_.buffer();
    put(b, std::uint32_t{0xFFFFFFFF});
    put(b, static_cast<std::int32_t>(metadata.size()));
    b += metadata;
    for (const std::string& buffer : body) {
      b += buffer;
      b.append((8 - buffer.size() % 8) % 8, '\0');
    }
  }

  OutputBuffer& out_;
  std::vector<ArrowColumn> columns_;
};

}  // namespace

std::unique_ptr<RowEncoder> make_arrow_encoder(OutputBuffer& out) {
  return std::make_unique<ArrowEncoder>(out);
}

}  // namespace duckmesh::query::encoding
