// The Arrow IPC stream encoding (Format::arrow): read back by the Apache
// Arrow JavaScript reader when node and the apache-arrow module are present,
// and always checked structurally by a small FlatBuffers reader below.
#include <gtest/gtest.h>
#include <stdio.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "duck/value.hpp"
#include "query/encoders.hpp"
#include "query/executor.hpp"
#include "query_test_support.hpp"

namespace duckmesh::query {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using duck::Int128;

constexpr int kRows = 5000;

// One column of every supported type, NULLs at a different period in each,
// and two columns of other types that travel as text.
const char* const kAllTypesSql = R"sql(
SELECT i::INTEGER AS id,
  CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 = 0 END AS flag,
  CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 3 - 7000)::INTEGER END AS i32,
  CASE WHEN i % 6 = 0 THEN NULL ELSE (i - 2500)::BIGINT * 3000000000000007 END AS i64,
  CASE WHEN i % 8 = 0 THEN NULL ELSE 18446744073709551615::UBIGINT - i::UBIGINT END AS u64,
  CASE WHEN i % 9 = 0 THEN NULL ELSE (i / 4.0 - 300)::DOUBLE END AS f64,
  CASE WHEN i % 11 = 0 THEN NULL
       ELSE 'row-' || i || CASE WHEN i % 3 = 0 THEN '-é€' ELSE '' END END AS str,
  CASE WHEN i % 13 = 0 THEN NULL ELSE DATE '1960-01-01' + (i * 7)::INTEGER END AS d,
  CASE WHEN i % 10 = 0 THEN NULL
       ELSE TIMESTAMP '1969-12-31 23:00:00' + to_microseconds(i * 1000003) END AS ts,
  CASE WHEN i % 12 = 0 THEN NULL
       ELSE TIMESTAMPTZ '2026-11-25 10:00:00+00' + to_microseconds(i * 1234567) END AS tstz,
  CASE WHEN i % 14 = 0 THEN NULL
       ELSE ((i - 2500)::VARCHAR || '0000000000000000.0000000007')::DECIMAL(38,10) END AS d38,
  CASE WHEN i % 15 = 0 THEN NULL
       ELSE (((i - 2500) * 123)::VARCHAR || '.' || lpad((i % 1000)::VARCHAR, 3, '0'))::DECIMAL(9,3)
  END AS d9,
  CASE WHEN i % 16 = 0 THEN NULL ELSE [i, i + 1]::INTEGER[] END AS lst,
  i::SMALLINT AS small
FROM range(5000) t(i) ORDER BY i
)sql";

// ---- Expected values, from the row number ----

bool null_flag(int i) {
  return i % 5 == 0;
}
bool null_i32(int i) {
  return i % 7 == 0;
}
bool null_i64(int i) {
  return i % 6 == 0;
}
bool null_u64(int i) {
  return i % 8 == 0;
}
bool null_f64(int i) {
  return i % 9 == 0;
}
bool null_str(int i) {
  return i % 11 == 0;
}
bool null_date(int i) {
  return i % 13 == 0;
}
bool null_ts(int i) {
  return i % 10 == 0;
}
bool null_tstz(int i) {
  return i % 12 == 0;
}
bool null_d38(int i) {
  return i % 14 == 0;
}
bool null_d9(int i) {
  return i % 15 == 0;
}
bool null_list(int i) {
  return i % 16 == 0;
}

std::int32_t expected_i32(int i) {
  return i * 3 - 7000;
}
std::int64_t expected_i64(int i) {
  return std::int64_t{i - 2500} * 3000000000000007LL;
}
std::uint64_t expected_u64(int i) {
  return 18446744073709551615ULL - static_cast<unsigned>(i);
}
double expected_f64(int i) {
  return i / 4.0 - 300;
}
std::string expected_str(int i) {
  return "row-" + std::to_string(i) + (i % 3 == 0 ? "-é€" : "");
}
std::int32_t expected_days(int i) {
  return -3653 + i * 7;
}
std::int64_t expected_ts(int i) {
  return -3600000000LL + std::int64_t{i} * 1000003;
}
std::int64_t expected_tstz(int i) {
  return 1795600800000000LL + std::int64_t{i} * 1234567;
}
Int128 expected_d38(int i) {
  const int k = i - 2500;
  Int128 ten26 = 1;
  for (int n = 0; n < 26; ++n) ten26 *= 10;
  const Int128 magnitude = static_cast<Int128>(k < 0 ? -k : k) * ten26 + 7;
  return k < 0 ? -magnitude : magnitude;
}
std::int64_t expected_d9(int i) {
  const std::int64_t k = std::int64_t{i - 2500} * 123;
  const std::int64_t fraction = i % 1000;
  return k < 0 ? k * 1000 - fraction : k * 1000 + fraction;
}

class ArrowTest : public ::testing::Test {
 protected:
  testing::ProductDirs dirs;
  Sandbox sandbox{{dirs.p1()}, dirs.scratch()};

  std::string encode(const std::string& sql, QueryOptions options = {}) {
    options.format = Format::arrow;
    StringSink sink;
    outcome = run_query(sandbox, sql, options, sink);
    return sink.data;
  }

  QueryOutcome outcome;
};

// ---- A reader of the stream's structure ----

template <class T>
T load(std::string_view bytes, std::size_t at) {
  if (at + sizeof(T) > bytes.size()) throw std::runtime_error("read past the end");
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

// One FlatBuffers table inside `buf`.
struct FbTable {
  std::string_view buf;
  std::size_t pos = 0;

  std::uint16_t field(int slot) const {
    const std::size_t vtable = pos - static_cast<std::size_t>(load<std::int32_t>(buf, pos));
    const std::uint16_t vtable_size = load<std::uint16_t>(buf, vtable);
    const std::size_t entry = 4 + 2 * static_cast<std::size_t>(slot);
    return entry < vtable_size ? load<std::uint16_t>(buf, vtable + entry) : 0;
  }
  bool has(int slot) const { return field(slot) != 0; }
  template <class T>
  T scalar(int slot, T fallback) const {
    const std::uint16_t at = field(slot);
    if (at == 0) return fallback;
    EXPECT_EQ((pos + at) % sizeof(T), 0u) << "misaligned scalar";
    return load<T>(buf, pos + at);
  }
  // Where the object behind the offset in `slot` starts.
  std::size_t target(int slot) const {
    const std::size_t at = pos + field(slot);
    return at + load<std::uint32_t>(buf, at);
  }
  FbTable table(int slot) const { return {buf, target(slot)}; }
  std::string_view string(int slot) const {
    const std::size_t at = target(slot);
    return buf.substr(at + 4, load<std::uint32_t>(buf, at));
  }
  std::uint32_t vector_size(int slot) const { return load<std::uint32_t>(buf, target(slot)); }
  FbTable vector_table(int slot, std::size_t i) const {
    const std::size_t at = target(slot) + 4 + 4 * i;
    return {buf, at + load<std::uint32_t>(buf, at)};
  }
  // Element `i` of a vector of 16-byte structs of two int64.
  std::pair<std::int64_t, std::int64_t> vector_pair(int slot, std::size_t i) const {
    const std::size_t at = target(slot) + 4 + 16 * i;
    EXPECT_EQ(at % 8, 0u) << "misaligned struct vector";
    return {load<std::int64_t>(buf, at), load<std::int64_t>(buf, at + 8)};
  }
};

struct FieldDesc {
  std::string name;
  bool nullable = false;
  int type = 0;  // the Type union tag
  FbTable type_table;
};

struct Batch {
  std::int64_t length = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> nodes;  // length, null_count
  std::vector<std::string_view> buffers;
};

struct Stream {
  std::vector<FieldDesc> fields;
  std::vector<Batch> batches;
};

// Parses the framing of every message, checking the invariants the
// columnar format states, up to and including the end-of-stream marker.
Stream parse_stream(std::string_view bytes) {
  Stream stream;
  std::size_t at = 0;
  bool saw_schema = false;
  while (true) {
    EXPECT_EQ(at % 8, 0u);
    EXPECT_EQ(load<std::uint32_t>(bytes, at), 0xFFFFFFFFu) << "continuation marker at " << at;
    const auto length = load<std::int32_t>(bytes, at + 4);
    if (length == 0) {
      EXPECT_EQ(at + 8, bytes.size()) << "bytes after the end-of-stream marker";
      break;
    }
    EXPECT_EQ((8 + length) % 8, 0) << "metadata not padded to 8 bytes";
    const std::string_view metadata = bytes.substr(at + 8, static_cast<std::size_t>(length));
    const FbTable message{metadata, load<std::uint32_t>(metadata, 0)};
    EXPECT_EQ(message.scalar<std::int16_t>(0, 0), 4) << "MetadataVersion V5";
    const auto header_type = message.scalar<std::uint8_t>(1, 0);
    const FbTable header = message.table(2);
    const auto body_length = message.scalar<std::int64_t>(3, 0);
    EXPECT_EQ(body_length % 8, 0);
    const std::size_t body_at = at + 8 + static_cast<std::size_t>(length);
    const std::string_view body = bytes.substr(body_at, static_cast<std::size_t>(body_length));
    EXPECT_EQ(body.size(), static_cast<std::size_t>(body_length)) << "truncated body";
    if (header_type == 1) {
      EXPECT_FALSE(saw_schema) << "a second schema";
      saw_schema = true;
      EXPECT_EQ(body_length, 0);
      EXPECT_EQ(header.scalar<std::int16_t>(0, 0), 0) << "little-endian";
      for (std::uint32_t f = 0; f < header.vector_size(1); ++f) {
        const FbTable field = header.vector_table(1, f);
        stream.fields.push_back({std::string(field.string(0)),
                                 field.scalar<std::uint8_t>(1, 0) != 0,
                                 field.scalar<std::uint8_t>(2, 0), field.table(3)});
      }
    } else {
      EXPECT_EQ(header_type, 3) << "RecordBatch";
      EXPECT_TRUE(saw_schema) << "a record batch before the schema";
      Batch batch;
      batch.length = header.scalar<std::int64_t>(0, -1);
      for (std::uint32_t n = 0; n < header.vector_size(1); ++n) {
        batch.nodes.push_back(header.vector_pair(1, n));
      }
      for (std::uint32_t b = 0; b < header.vector_size(2); ++b) {
        const auto [offset, size] = header.vector_pair(2, b);
        EXPECT_EQ(offset % 8, 0) << "buffer " << b << " misaligned";
        EXPECT_LE(offset + size, body_length) << "buffer " << b << " beyond the body";
        batch.buffers.push_back(
            body.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(size)));
      }
      stream.batches.push_back(std::move(batch));
    }
    at = body_at + static_cast<std::size_t>(body_length);
  }
  return stream;
}

// The buffers of column `col` in `batch`: validity, then data (Utf8:
// validity, offsets, data).
std::vector<std::string_view> column_buffers(const Stream& stream, const Batch& batch,
                                             std::size_t col) {
  std::size_t first = 0;
  for (std::size_t c = 0; c < col; ++c) first += stream.fields[c].type == 5 ? 3 : 2;
  const std::size_t count = stream.fields[col].type == 5 ? 3 : 2;
  return {batch.buffers.begin() + static_cast<std::ptrdiff_t>(first),
          batch.buffers.begin() + static_cast<std::ptrdiff_t>(first + count)};
}

bool valid(std::string_view validity, std::size_t row) {
  if (validity.empty()) return true;
  return (static_cast<unsigned char>(validity[row / 8]) >> (row % 8)) & 1u;
}

// ---- Tests ----

TEST(ArrowFormatTest, NameAndContentType) {
  EXPECT_EQ(format_from_string("arrow"), Format::arrow);
  EXPECT_EQ(to_string(Format::arrow), "arrow");
  EXPECT_EQ(content_type(Format::arrow), "application/vnd.apache.arrow.stream");
  const Error e = testing::expect_error([] { format_from_string("arrows"); });
  EXPECT_NE(std::string(e.what()).find("arrow"), std::string::npos) << e.what();
}

TEST_F(ArrowTest, StructureTypesAndExactValues) {
  const std::string bytes = encode(kAllTypesSql);
  EXPECT_EQ(outcome.row_count, static_cast<std::size_t>(kRows));
  const Stream stream = parse_stream(bytes);

  const std::vector<std::string> names = {"id", "flag", "i32",  "i64", "u64", "f64", "str",
                                          "d",  "ts",   "tstz", "d38", "d9",  "lst", "small"};
  const std::vector<int> types = {2, 6, 2, 2, 2, 3, 5, 8, 10, 10, 7, 7, 5, 5};
  ASSERT_EQ(stream.fields.size(), names.size());
  for (std::size_t c = 0; c < names.size(); ++c) {
    EXPECT_EQ(stream.fields[c].name, names[c]);
    EXPECT_TRUE(stream.fields[c].nullable);
    EXPECT_EQ(stream.fields[c].type, types[c]) << names[c];
  }
  const auto& f = stream.fields;
  EXPECT_EQ(f[0].type_table.scalar<std::int32_t>(0, 0), 32);
  EXPECT_EQ(f[0].type_table.scalar<std::uint8_t>(1, 0), 1);
  EXPECT_EQ(f[3].type_table.scalar<std::int32_t>(0, 0), 64);
  EXPECT_EQ(f[3].type_table.scalar<std::uint8_t>(1, 0), 1);
  EXPECT_EQ(f[4].type_table.scalar<std::int32_t>(0, 0), 64);
  EXPECT_EQ(f[4].type_table.scalar<std::uint8_t>(1, 1), 0) << "UBIGINT is unsigned";
  EXPECT_EQ(f[5].type_table.scalar<std::int16_t>(0, -1), 2) << "DOUBLE precision";
  EXPECT_EQ(f[7].type_table.scalar<std::int16_t>(0, 1), 0) << "Date unit DAY";
  EXPECT_EQ(f[8].type_table.scalar<std::int16_t>(0, -1), 2) << "MICROSECOND";
  EXPECT_FALSE(f[8].type_table.has(1)) << "TIMESTAMP has no time zone";
  EXPECT_EQ(f[9].type_table.scalar<std::int16_t>(0, -1), 2) << "MICROSECOND";
  EXPECT_EQ(f[9].type_table.string(1), "UTC");
  EXPECT_EQ(f[10].type_table.scalar<std::int32_t>(0, 0), 38);
  EXPECT_EQ(f[10].type_table.scalar<std::int32_t>(1, 0), 10);
  EXPECT_EQ(f[10].type_table.scalar<std::int32_t>(2, 0), 128);
  EXPECT_EQ(f[11].type_table.scalar<std::int32_t>(0, 0), 9);
  EXPECT_EQ(f[11].type_table.scalar<std::int32_t>(1, 0), 3);

  // DuckDB's chunks: 2048 + 2048 + 904 rows.
  ASSERT_EQ(stream.batches.size(), 3u);
  std::int64_t total = 0;
  for (const Batch& batch : stream.batches) {
    EXPECT_LE(batch.length, 2048);
    ASSERT_EQ(batch.nodes.size(), names.size());
    ASSERT_EQ(batch.buffers.size(), 2 * names.size() + 3);
    for (const auto& node : batch.nodes) EXPECT_EQ(node.first, batch.length);
    total += batch.length;
  }
  EXPECT_EQ(total, kRows);

  int i = 0;
  for (const Batch& batch : stream.batches) {
    const auto n = static_cast<std::size_t>(batch.length);
    const auto i32 = column_buffers(stream, batch, 2);
    const auto str = column_buffers(stream, batch, 6);
    const auto ts = column_buffers(stream, batch, 8);
    const auto tstz = column_buffers(stream, batch, 9);
    const auto d38 = column_buffers(stream, batch, 10);
    const auto d9 = column_buffers(stream, batch, 11);
    const auto lst = column_buffers(stream, batch, 12);
    ASSERT_EQ(ts[1].size(), 8 * n);
    ASSERT_EQ(d38[1].size(), 16 * n);
    std::int64_t d38_nulls = 0;
    for (std::size_t r = 0; r < n; ++r, ++i) {
      ASSERT_EQ(valid(i32[0], r), !null_i32(i)) << i;
      if (!null_i32(i)) {
        EXPECT_EQ(load<std::int32_t>(i32[1], 4 * r), expected_i32(i)) << i;
      }
      ASSERT_EQ(valid(str[0], r), !null_str(i)) << i;
      const auto begin = load<std::int32_t>(str[1], 4 * r);
      const auto end = load<std::int32_t>(str[1], 4 * r + 4);
      if (!null_str(i)) {
        EXPECT_EQ(
            str[2].substr(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)),
            expected_str(i));
      }
      ASSERT_EQ(valid(ts[0], r), !null_ts(i)) << i;
      if (!null_ts(i)) {
        EXPECT_EQ(load<std::int64_t>(ts[1], 8 * r), expected_ts(i)) << i;
      }
      ASSERT_EQ(valid(tstz[0], r), !null_tstz(i)) << i;
      if (!null_tstz(i)) {
        EXPECT_EQ(load<std::int64_t>(tstz[1], 8 * r), expected_tstz(i)) << i;
      }
      ASSERT_EQ(valid(d38[0], r), !null_d38(i)) << i;
      if (null_d38(i)) {
        ++d38_nulls;
      } else {
        // Bit-exact little-endian two's complement, both 64-bit halves.
        const Int128 want = expected_d38(i);
        EXPECT_EQ(load<std::uint64_t>(d38[1], 16 * r), static_cast<std::uint64_t>(want)) << i;
        EXPECT_EQ(load<std::uint64_t>(d38[1], 16 * r + 8),
                  static_cast<std::uint64_t>(static_cast<duck::UInt128>(want) >> 64))
            << i;
      }
      ASSERT_EQ(valid(d9[0], r), !null_d9(i)) << i;
      if (!null_d9(i)) {
        EXPECT_EQ(load<std::int64_t>(d9[1], 16 * r), expected_d9(i)) << i;
        EXPECT_EQ(load<std::int64_t>(d9[1], 16 * r + 8), expected_d9(i) < 0 ? -1 : 0) << i;
      }
      if (!null_list(i)) {
        const auto lb = load<std::int32_t>(lst[1], 4 * r);
        const auto le = load<std::int32_t>(lst[1], 4 * r + 4);
        EXPECT_EQ(lst[2].substr(static_cast<std::size_t>(lb), static_cast<std::size_t>(le - lb)),
                  "[" + std::to_string(i) + ", " + std::to_string(i + 1) + "]");
      }
    }
    EXPECT_EQ(batch.nodes[10].second, d38_nulls);
  }
}

TEST_F(ArrowTest, MaxRowsCutsTheLastBatch) {
  QueryOptions options;
  options.max_rows = 3000;
  const Stream stream = parse_stream(encode("SELECT i FROM range(5000) t(i)", options));
  EXPECT_TRUE(outcome.truncated);
  ASSERT_EQ(stream.batches.size(), 2u);
  EXPECT_EQ(stream.batches[0].length, 2048);
  EXPECT_EQ(stream.batches[1].length, 3000 - 2048);
  EXPECT_EQ(stream.batches[1].buffers[1].size(), 8u * (3000 - 2048));
  EXPECT_TRUE(stream.batches[1].buffers[0].empty()) << "no validity bitmap without NULLs";
}

TEST_F(ArrowTest, EmptyResultIsSchemaAndEndMarker) {
  const Stream stream = parse_stream(encode("SELECT 1::INTEGER AS one WHERE false"));
  ASSERT_EQ(stream.fields.size(), 1u);
  EXPECT_EQ(stream.fields[0].name, "one");
  EXPECT_TRUE(stream.batches.empty());
}

// ---- Read back by Apache Arrow's own reader ----

// Prints {"fields":[...],"batches":[rows...],"columns":[[values...]...]},
// with 64-bit integers, dates, timestamps and decimals as the decimal text
// of their stored integer, so the comparison is exact.
constexpr std::string_view kNodeReader = R"js(
const fs = require('fs');
const arrow = require(process.env.ARROW_MODULE);
const table = arrow.tableFromIPC(fs.readFileSync(process.argv[2]));
const T = arrow.Type;
const raw = (data, k) => {
  const t = data.type.typeId;
  const v = data.values;
  if (t === T.Decimal) {
    const w = v.subarray((data.offset + k) * 4, (data.offset + k) * 4 + 4);
    let x = 0n;
    for (let j = 3; j >= 0; --j) x = (x << 32n) | BigInt(w[j]);
    return BigInt.asIntN(128, x).toString();
  }
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return v[data.offset + k].toString();
  if (t === T.Timestamp) {
    const lo = BigInt(v[(data.offset + k) * 2] >>> 0), hi = BigInt(v[(data.offset + k) * 2 + 1]);
    return ((hi << 32n) | lo).toString();
  }
  return v[data.offset + k];
};
const out = {fields: [], batches: table.batches.map(b => b.numRows), columns: []};
for (const f of table.schema.fields) {
  const t = f.type;
  out.fields.push({name: f.name, nullable: f.nullable, typeId: t.typeId, bitWidth: t.bitWidth ?? null,
    isSigned: t.isSigned ?? null, precision: t.precision ?? null, scale: t.scale ?? null,
    unit: t.unit ?? null, timezone: t.timezone ?? null});
}
table.schema.fields.forEach((f, c) => {
  const vec = table.getChildAt(c);
  const values = [];
  for (const data of vec.data) {
    for (let k = 0; k < data.length; ++k) {
      if (!data.getValid(k)) { values.push(null); continue; }
      const t = data.type.typeId;
      if (t === T.Date || t === T.Timestamp || t === T.Decimal) { values.push(String(raw(data, k))); continue; }
      const v = vec.get(values.length);
      values.push(typeof v === 'bigint' ? v.toString() : v);
    }
  }
  out.columns.push(values);
});
process.stdout.write(JSON.stringify(out));
)js";

std::string arrow_module_dir() {
  if (const char* dir = std::getenv("DUCKMESH_APACHE_ARROW_JS")) return dir;
  return "/tmp/arrowcheck/node_modules/apache-arrow";
}

// stdout of `command`, and whether it exited with 0.
bool run_command(const std::string& command, std::string& output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  char block[65536];
  std::size_t got = 0;
  while ((got = fread(block, 1, sizeof block, pipe)) > 0) output.append(block, got);
  return pclose(pipe) == 0;
}

TEST_F(ArrowTest, ApacheArrowJsReadsEveryType) {
  const std::string module = arrow_module_dir();
  std::string ignored;
  if (!run_command("node --version 2>/dev/null", ignored)) {
    GTEST_SKIP() << "node is not installed; the structural test still checks the stream";
  }
  if (!fs::exists(fs::path(module) / "package.json")) {
    GTEST_SKIP() << "the apache-arrow npm module is not at " << module
                 << " (set DUCKMESH_APACHE_ARROW_JS); the structural test still checks the "
                    "stream";
  }
  testing::ScratchDir dir;
  const fs::path stream_path = dir.path() / "result.arrows";
  const fs::path script_path = dir.path() / "read.js";
  {
    std::ofstream(stream_path, std::ios::binary) << encode(kAllTypesSql);
    std::ofstream(script_path) << kNodeReader;
  }
  std::string output;
  ASSERT_TRUE(run_command("ARROW_MODULE='" + module + "' node '" + script_path.string() + "' '" +
                              stream_path.string() + "'",
                          output))
      << output;
  const json::object result = json::parse(output).as_object();

  const json::array& batches = result.at("batches").as_array();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].to_number<int>() + batches[1].to_number<int>() + batches[2].to_number<int>(),
            kRows);

  const json::array& fields = result.at("fields").as_array();
  ASSERT_EQ(fields.size(), 14u);
  const auto field = [&](std::size_t c) { return fields[c].as_object(); };
  EXPECT_EQ(std::string(field(0).at("name").as_string()), "id");
  EXPECT_EQ(field(0).at("typeId").to_number<int>(), 2);
  EXPECT_EQ(field(0).at("bitWidth").to_number<int>(), 32);
  EXPECT_EQ(field(1).at("typeId").to_number<int>(), 6);
  EXPECT_EQ(field(3).at("bitWidth").to_number<int>(), 64);
  EXPECT_TRUE(field(3).at("isSigned").as_bool());
  EXPECT_EQ(field(4).at("bitWidth").to_number<int>(), 64);
  EXPECT_FALSE(field(4).at("isSigned").as_bool());
  EXPECT_EQ(field(5).at("typeId").to_number<int>(), 3);
  EXPECT_EQ(field(5).at("precision").to_number<int>(), 2);
  EXPECT_EQ(field(6).at("typeId").to_number<int>(), 5);
  EXPECT_EQ(field(7).at("typeId").to_number<int>(), 8);
  EXPECT_EQ(field(7).at("unit").to_number<int>(), 0);
  EXPECT_EQ(field(8).at("typeId").to_number<int>(), 10);
  EXPECT_EQ(field(8).at("unit").to_number<int>(), 2);
  EXPECT_TRUE(field(8).at("timezone").is_null());
  EXPECT_EQ(field(9).at("unit").to_number<int>(), 2);
  EXPECT_EQ(std::string(field(9).at("timezone").as_string()), "UTC");
  EXPECT_EQ(field(10).at("typeId").to_number<int>(), 7);
  EXPECT_EQ(field(10).at("precision").to_number<int>(), 38);
  EXPECT_EQ(field(10).at("scale").to_number<int>(), 10);
  EXPECT_EQ(field(10).at("bitWidth").to_number<int>(), 128);
  EXPECT_EQ(field(11).at("precision").to_number<int>(), 9);
  EXPECT_EQ(field(11).at("scale").to_number<int>(), 3);
  EXPECT_EQ(field(12).at("typeId").to_number<int>(), 5);
  EXPECT_EQ(field(13).at("typeId").to_number<int>(), 5);

  const json::array& columns = result.at("columns").as_array();
  ASSERT_EQ(columns.size(), 14u);
  for (const json::value& column : columns) ASSERT_EQ(column.as_array().size(), kRows + 0u);
  const auto at = [&](std::size_t c, int i) -> const json::value& {
    return columns[c].as_array()[static_cast<std::size_t>(i)];
  };
  const auto text = [](const json::value& v) { return std::string(v.as_string()); };
  for (int i = 0; i < kRows; ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    EXPECT_EQ(at(0, i).to_number<int>(), i);
    if (null_flag(i)) {
      EXPECT_TRUE(at(1, i).is_null());
    } else {
      EXPECT_EQ(at(1, i).as_bool(), i % 2 == 0);
    }
    if (null_i32(i)) {
      EXPECT_TRUE(at(2, i).is_null());
    } else {
      EXPECT_EQ(at(2, i).to_number<std::int32_t>(), expected_i32(i));
    }
    if (null_i64(i)) {
      EXPECT_TRUE(at(3, i).is_null());
    } else {
      EXPECT_EQ(text(at(3, i)), std::to_string(expected_i64(i)));
    }
    if (null_u64(i)) {
      EXPECT_TRUE(at(4, i).is_null());
    } else {
      EXPECT_EQ(text(at(4, i)), std::to_string(expected_u64(i)));
    }
    if (null_f64(i)) {
      EXPECT_TRUE(at(5, i).is_null());
    } else {
      EXPECT_EQ(at(5, i).to_number<double>(), expected_f64(i));
    }
    if (null_str(i)) {
      EXPECT_TRUE(at(6, i).is_null());
    } else {
      EXPECT_EQ(text(at(6, i)), expected_str(i));
    }
    if (null_date(i)) {
      EXPECT_TRUE(at(7, i).is_null());
    } else {
      EXPECT_EQ(text(at(7, i)), std::to_string(expected_days(i)));
    }
    if (null_ts(i)) {
      EXPECT_TRUE(at(8, i).is_null());
    } else {
      EXPECT_EQ(text(at(8, i)), std::to_string(expected_ts(i)));
    }
    if (null_tstz(i)) {
      EXPECT_TRUE(at(9, i).is_null());
    } else {
      EXPECT_EQ(text(at(9, i)), std::to_string(expected_tstz(i)));
    }
    if (null_d38(i)) {
      EXPECT_TRUE(at(10, i).is_null());
    } else {
      EXPECT_EQ(text(at(10, i)), duck::int128_to_string(expected_d38(i)));
    }
    if (null_d9(i)) {
      EXPECT_TRUE(at(11, i).is_null());
    } else {
      EXPECT_EQ(text(at(11, i)), std::to_string(expected_d9(i)));
    }
    if (null_list(i)) {
      EXPECT_TRUE(at(12, i).is_null());
    } else {
      EXPECT_EQ(text(at(12, i)), "[" + std::to_string(i) + ", " + std::to_string(i + 1) + "]");
    }
    EXPECT_EQ(text(at(13, i)), std::to_string(i));
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace duckmesh::query
