#include "commit/payload_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/error.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "duck/value.hpp"
#include "schema/binary_payload.hpp"

namespace duckmesh::commit {
namespace {

using ::testing::HasSubstr;

const char* kColumns = R"J([
  {"name": "b", "type": "boolean"}, {"name": "i", "type": "integer"},
  {"name": "l", "type": "bigint"}, {"name": "d", "type": "double"},
  {"name": "dec", "type": "decimal(12,2)"}, {"name": "small", "type": "decimal(4,1)"},
  {"name": "big", "type": "decimal(38,6)"}, {"name": "s", "type": "varchar"},
  {"name": "dt", "type": "date"}, {"name": "ts", "type": "timestamp"},
  {"name": "tz", "type": "timestamptz"}, {"name": "id", "type": "uuid"}])J";

// The same columns as DuckDB's read_json takes them.
const char* kReadJsonColumns =
    "{'b': 'BOOLEAN', 'i': 'INTEGER', 'l': 'BIGINT', 'd': 'DOUBLE', 'dec': 'DECIMAL(12,2)', "
    "'small': 'DECIMAL(4,1)', 'big': 'DECIMAL(38,6)', 's': 'VARCHAR', 'dt': 'DATE', "
    "'ts': 'TIMESTAMPTZ', 'tz': 'TIMESTAMPTZ', 'id': 'UUID', '_dm_op': 'VARCHAR'}";

class PayloadReaderTest : public ::testing::Test {
 protected:
  PayloadReaderTest() { conn.execute("SET TimeZone = 'UTC'"); }

  static bus::Record record(std::string payload, bus::Position position) {
    bus::Record r;
    r.product = "p";
    r.table = "t";
    r.position = position;
    r.ingested_unix_us = 1'700'000'000'000'000 + static_cast<std::int64_t>(position);
    r.payload = std::move(payload);
    return r;
  }

  // Reads `payloads` through a PayloadReader into table `name`.
  void read_into(const std::string& name, const std::vector<std::string>& payloads,
                 bool keyed = false) {
    auto schema = schema::TableSchema::from_json_text(kColumns);
    PayloadReader reader(schema, keyed);
    std::vector<bus::Record> records;
    for (std::size_t i = 0; i < payloads.size(); ++i) records.push_back(record(payloads[i], i + 1));
    std::size_t next = 0;
    duck::RowSource::Producer produce = [&](duck::ChunkWriter& out, std::size_t) {
      idx_t n = 0;
      for (; n < out.capacity() && next < records.size(); ++n, ++next)
        reader.read(records[next], out, n);
      return n;
    };
    rows.query("CREATE TABLE " + name + " AS SELECT * FROM batch()", reader.columns(), produce);
  }

  // What DuckDB's read_json makes of the same payloads, with the system
  // columns the coordinator's staging path adds.
  void read_json_into(const std::string& name, const std::vector<std::string>& payloads) {
    auto file = std::filesystem::temp_directory_path() /
                ("duckmesh-payload-" + std::to_string(::getpid()) + ".ndjson");
    {
      std::ofstream out(file);
      for (const auto& p : payloads) out << p << '\n';
    }
    conn.execute("CREATE TABLE " + name +
                 " AS SELECT b, i, l, d, dec, small, big, s, dt, make_timestamp(epoch_us(ts)) AS "
                 "ts, tz, id, "
                 "row_number() OVER ()::UBIGINT AS _dm_position, "
                 "make_timestamptz(1700000000000000 + row_number() OVER ()) AS _dm_ingested_at "
                 "FROM read_json('" +
                 file.string() + "', format='newline_delimited', columns=" + kReadJsonColumns +
                 ")");
    std::filesystem::remove(file);
  }

  std::int64_t count(const std::string& sql) {
    return duck::to_int64(*conn.query("SELECT count(*) FROM (" + sql + ")").scalar());
  }

  // The message read() gives for `payload`.
  std::string error_of(const std::string& payload) {
    try {
      read_into("failing", {payload});
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error for " << payload;
    conn.execute("DROP TABLE failing");
    return "";
  }

  duck::Database db{""};
  duck::Connection conn{db};
  duck::RowSource rows{conn, "batch"};
};

TEST_F(PayloadReaderTest, ReadsWhatReadJsonReadsFromCanonicalAndPlainPayloads) {
  std::vector<std::string> payloads = {
      // As ingest's validator writes them.
      R"({"b":true,"i":-42,"l":9007199254740993,"d":0.1,"dec":"12.50","small":"-999.9",)"
      R"("big":"-12345678901234567890123456789012.123456","s":"caf\u00e9 \"q\" \\ \n \ud83d\ude00",)"
      R"("dt":"2026-02-28","ts":"2026-11-25 10:00:00.5+00:00","tz":"0001-01-01 00:00:00+00:00",)"
      R"("id":"0123abcd-4567-89ef-0123-456789abcdef"})",
      R"({"b":false,"i":2147483647,"l":-9223372036854775808,"d":-1e+300,"dec":"-0.01",)"
      R"("big":"0.000001","s":"","dt":"9999-12-31","ts":"9999-12-31 23:59:59.999999+00:00",)"
      R"("tz":"1969-12-31 23:59:59.999999+00:00","id":"ffffffff-ffff-ffff-ffff-ffffffffffff"})",
      R"({})",
      R"({"b":null,"i":null,"s":null,"id":null})",
      // As a client might publish them: offsets, numbers for decimals,
      // whitespace, keys out of order, unknown fields of any shape.
      R"( { "tz" : "2026-11-25T10:00:00Z" , "ts":"2026-11-25T12:30:00.25+02:30",)"
      R"( "dec": 12.5, "unknown": {"a": [1, {"b": "}]"}], "c": null}, "s": "x", "d": 3,)"
      R"( "more": [[], {}], "id": "0123ABCD-4567-89EF-0123-456789ABCDEF" } )",
  };
  read_into("ours", payloads);
  read_json_into("theirs", payloads);
  EXPECT_EQ(count("SELECT * FROM ours"), static_cast<std::int64_t>(payloads.size()));
  EXPECT_EQ(count("SELECT * FROM ours EXCEPT ALL SELECT * FROM theirs"), 0);
  EXPECT_EQ(count("SELECT * FROM theirs EXCEPT ALL SELECT * FROM ours"), 0);
  EXPECT_EQ(count("SELECT * FROM ours WHERE _dm_position = 5 AND ts = TIMESTAMP '2026-11-25 "
                  "10:00:00.25' AND dec = 12.50 AND d = 3 AND s = 'x'"),
            1);
}

// Binary payloads with a value of every column type, as ingest writes them
// for this table.
std::vector<std::string> binary_payloads() {
  using namespace schema;
  std::vector<std::string> out(3);
  std::string& a = out[0];
  begin_binary_payload(a);
  put_field_name("b", a), put_bool(true, a);
  put_field_name("i", a), put_int32(-42, a);
  put_field_name("l", a), put_int64(9007199254740993, a);
  put_field_name("d", a), put_float64(0.1, a);
  put_field_name("dec", a), put_decimal(1250, 12, 2, a);
  put_field_name("small", a), put_decimal(-9999, 4, 1, a);
  Int128 big = -1;
  for (int k = 0; k < 37; ++k) big *= 10;  // -10^37: 32 integer digits at scale 6
  put_field_name("big", a), put_decimal(big + 1, 38, 6, a);
  put_field_name("s", a), put_string("caf\xC3\xA9 \"q\" \\ \n a string longer than twelve", a);
  put_field_name("dt", a), put_date(20512, a);
  put_field_name("ts", a), put_timestamp(1'795'600'800'500'000, a);
  put_field_name("tz", a), put_timestamp(-62'135'596'800'000'000, a);
  put_field_name("id", a), put_uuid(0x0123abcd456789efULL, 0x0123456789abcdefULL, a);
  std::string& b = out[1];
  begin_binary_payload(b);
  put_field_name("i", b), put_int32(2147483647, b);
  put_field_name("l", b), put_int64(INT64_MIN, b);
  put_field_name("s", b), put_string("", b);
  put_field_name("tz", b), put_timestamp(-1, b);
  begin_binary_payload(out[2]);  // no fields: every column NULL
  return out;
}

TEST_F(PayloadReaderTest, BinaryPayloadsReadAsDuckDBReadsTheirJson) {
  auto binary = binary_payloads();
  std::vector<std::string> json;
  for (const auto& p : binary) json.push_back(schema::payload_json(p));
  read_into("ours", binary);
  read_json_into("theirs", json);
  EXPECT_EQ(count("SELECT * FROM ours"), 3);
  EXPECT_EQ(count("SELECT * FROM ours EXCEPT ALL SELECT * FROM theirs"), 0);
  EXPECT_EQ(count("SELECT * FROM theirs EXCEPT ALL SELECT * FROM ours"), 0);
  EXPECT_EQ(count("SELECT * FROM ours WHERE _dm_position = 1 AND dec = 12.50 AND small = -999.9 "
                  "AND dt = DATE '2026-02-28' AND ts = TIMESTAMP '2026-11-25 10:00:00.5' AND "
                  "id = '0123abcd-4567-89ef-0123-456789abcdef' AND s LIKE 'caf\xC3\xA9%'"),
            1);
  EXPECT_EQ(count("SELECT * FROM ours WHERE _dm_position = 3 AND b IS NULL AND s IS NULL"), 1);
}

// A payload validated before the table's schema changed holds values of the
// old types: they are converted as their canonical JSON would be.
TEST_F(PayloadReaderTest, BinaryValuesOfAnotherTypeAreConvertedOrRefusedLikeTheirJson) {
  using namespace schema;
  std::string p;
  begin_binary_payload(p);
  put_field_name("l", p), put_int32(7, p);               // integer widened to bigint
  put_field_name("dec", p), put_decimal(125, 10, 1, p);  // decimal(10,1) -> (12,2)
  put_field_name("s", p), put_int64(-5, p);              // bigint to varchar
  put_field_name("d", p), put_decimal(-25, 4, 1, p);     // decimal to double
  put_field_name("gone", p), put_string("dropped column", p);
  read_into("converted", {p});
  EXPECT_EQ(count("SELECT * FROM converted WHERE l = 7 AND dec = 12.50 AND s = '-5' AND d = -2.5"),
            1);

  std::string narrowing;
  begin_binary_payload(narrowing);
  put_field_name("i", narrowing), put_int64(5'000'000'000, narrowing);
  auto why = error_of(narrowing);
  EXPECT_THAT(why, HasSubstr("bus position 1"));
  EXPECT_THAT(why, HasSubstr("column 'i'"));
  EXPECT_THAT(why, HasSubstr("5000000000"));
}

TEST_F(PayloadReaderTest, MalformedBinaryPayloadsAreRefusedNeverMisread) {
  auto good = binary_payloads()[0];
  // Every cut of a good payload short of its end is refused, or (at a
  // field boundary) reads the fields before it.
  for (std::size_t size = 2; size < good.size(); ++size) {
    try {
      read_into("cut", {good.substr(0, size)});
      conn.execute("DROP TABLE cut");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
      EXPECT_THAT(e.what(), HasSubstr("binary payload")) << size;
    }
  }
  std::string unknown_type =
      "\x01\x01"
      "b"
      "\x63";
  EXPECT_THAT(error_of(unknown_type), HasSubstr("unknown type"));
  std::string bad_bool =
      "\x01\x01"
      "b"
      "\x01\x02";
  EXPECT_THAT(error_of(bad_bool), HasSubstr("out of its type's range"));
  std::string wide_decimal;
  schema::begin_binary_payload(wide_decimal);
  schema::put_field_name("small", wide_decimal);
  schema::put_decimal(10000, 4, 1, wide_decimal);  // 1000.0 does not fit DECIMAL(4,1)
  EXPECT_THAT(error_of(wide_decimal), HasSubstr("out of its type's range"));
  std::string bad_utf8;
  schema::begin_binary_payload(bad_utf8);
  schema::put_field_name("s", bad_utf8);
  schema::put_string("a\xFF long enough to leave the inline slot", bad_utf8);
  auto why = error_of(bad_utf8);
  EXPECT_THAT(why, HasSubstr("column 's'"));
  EXPECT_THAT(why, HasSubstr("UTF-8"));
}

TEST_F(PayloadReaderTest, KeyedTablesGetTheOperationAndAbsentColumnsAreNull) {
  read_into("keyed",
            {R"({"l":1,"_dm_op":"delete"})", R"({"l":2})",
             // System column names in a payload are not taken from it.
             R"({"l":3,"_dm_position":99,"_dm_ingested_at":"x"})",
             // An escaped key names its column; the last of two values wins.
             R"({"\u006c":4,"s":"first","s":"second"})"},
            true);
  EXPECT_EQ(count("SELECT * FROM keyed WHERE l = 1 AND _dm_op = 'delete' AND b IS NULL"), 1);
  EXPECT_EQ(count("SELECT * FROM keyed WHERE _dm_op = 'upsert'"), 3);
  EXPECT_EQ(count("SELECT * FROM keyed WHERE l = 3 AND _dm_position = 3 AND "
                  "_dm_ingested_at = make_timestamptz(1700000000000003)"),
            1);
  EXPECT_EQ(count("SELECT * FROM keyed WHERE l = 4 AND s = 'second'"), 1);
}

TEST_F(PayloadReaderTest, AValueThatDoesNotFitNamesTheEventTheColumnAndWhy) {
  struct Case {
    const char* payload;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"b":1})", "column 'b': expected true or false, got 1"},
      {R"({"i":2147483648})", "column 'i': expected a whole number within the range of integer"},
      {R"({"i":1.5})", "column 'i': expected a whole number"},
      {R"({"l":"abc"})", "column 'l': expected a whole number"},
      {R"({"l":true})", "column 'l': expected a number for type bigint"},
      {R"({"d":1e999})", "column 'd': expected a finite number"},
      {R"({"dec":"1.234"})",
       "column 'dec': expected a number with at most 10 integer and 2 fraction"},
      {R"({"small":"1000"})", "column 'small': expected a number with at most 3 integer"},
      {R"({"s":{"a":1}})", "column 's': expected a string"},
      {"{\"s\":\"\xC3\x28\"}", "column 's': the text is not valid UTF-8"},
      {R"({"s":"\ud800"})", "column 's': not valid UTF-8: an unpaired surrogate"},
      {R"({"dt":"2026-02-30"})", "column 'dt': expected a date"},
      {R"({"ts":"2026-11-25T10:00:60Z"})", "column 'ts': leap seconds"},
      {R"({"tz":12})", "column 'tz': expected RFC 3339 text"},
      {R"({"id":"not-a-uuid"})", "column 'id': expected a UUID"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(error_of(c.payload), HasSubstr(c.expected)) << c.payload;
    EXPECT_THAT(error_of(c.payload), HasSubstr("event at bus position 1")) << c.payload;
  }
}

TEST_F(PayloadReaderTest, StringsEndAndEscapeAtEveryOffsetOfTheWideScan) {
  // Strings are scanned 16 and 8 bytes at a time before byte by byte: an
  // escape, the closing quote, a multi-byte character or a raw control
  // character at any offset must be seen where it is.
  std::vector<std::string> payloads;
  for (std::size_t at = 0; at < 40; ++at) {
    const std::string before(at, 'a');
    for (const char* special : {"\\\"", "\\\\", "\\n", "\xC3\xA9", "\xF0\x9F\x98\x80"}) {
      payloads.push_back(R"({"s":")" + before + special + std::string(40 - at, 'b') +
                         R"(","l":1})");
    }
    payloads.push_back(R"({"s":")" + before + R"(","l":2})");  // the end at every offset
  }
  read_into("ours", payloads);
  read_json_into("theirs", payloads);
  EXPECT_EQ(count("SELECT * FROM ours"), static_cast<std::int64_t>(payloads.size()));
  EXPECT_EQ(count("SELECT * FROM ours EXCEPT ALL SELECT * FROM theirs"), 0);
  EXPECT_EQ(count("SELECT * FROM theirs EXCEPT ALL SELECT * FROM ours"), 0);
  EXPECT_EQ(count("SELECT * FROM ours WHERE l = 2 AND length(s) = _dm_position / 6 - 1"), 40);
  for (std::size_t at = 0; at < 40; ++at) {
    for (const char* raw : {"\x01", "\x1F"}) {
      const std::string control = "{\"s\":\"" + std::string(at, 'a') + raw + "b\"}";
      EXPECT_THAT(error_of(control), HasSubstr("control character")) << at;
    }
  }
}

TEST_F(PayloadReaderTest, BrokenJsonIsRefusedNeverMisread) {
  const char* broken[] = {
      "",
      "[]",
      "{",
      R"({"s")",
      R"({"s":})",
      R"({"s":"x)",
      R"({"s":"x" "d":1})",
      R"({"s":"\q"})",
      R"({"s":"\u12"})",
      R"({"x":[1,2})",
      R"({"x":[1,2]]})",
      R"({} trailing)",
      R"({"s":"a"} {})",
      R"({"b":tru})",
      R"({"b":nul})",
      "{\"s\":\"a\x01\"}",
      R"({"d":})",
      R"({,})",
  };
  for (const char* payload : broken) {
    EXPECT_THAT(error_of(payload), HasSubstr("event at bus position 1")) << payload;
  }
}

TEST_F(PayloadReaderTest, RandomBytesNeverCrashIt) {
  // Mutations of a valid payload: each either reads or throws invalid_input.
  const std::string valid =
      R"({"b":true,"i":-42,"dec":"12.50","s":"a\"b\u00e9","dt":"2026-02-28",)"
      R"("ts":"2026-11-25 10:00:00+00:00","x":{"y":[1,"}"]},"id":"0123abcd-4567-89ef-0123-456789abcdef"})";
  std::mt19937 random(7);
  auto schema = schema::TableSchema::from_json_text(kColumns);
  PayloadReader reader(schema, true);
  int read = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string payload = valid;
    int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = random() % payload.size();
      switch (random() % 3) {
        case 0: payload[at] = static_cast<char>(random() % 256); break;
        case 1: payload.erase(at, 1 + random() % 5); break;
        default: payload.insert(at, 1, "{}[]\",:\\u0"[random() % 11]);
      }
      if (payload.empty()) payload = "{";
    }
    auto r = record(payload, 1);
    std::size_t given = 0;
    duck::RowSource::Producer produce = [&](duck::ChunkWriter& out, std::size_t) -> idx_t {
      if (given++ > 0) return 0;
      reader.read(r, out, 0);
      return 1;
    };
    try {
      rows.query("SELECT count(*) FROM batch()", reader.columns(), produce);
      ++read;
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
      ++refused;
    }
  }
  EXPECT_GT(read, 0);
  EXPECT_GT(refused, 0);
}

TEST_F(PayloadReaderTest, JsonAndListColumnsAreLeftToReadJson) {
  EXPECT_TRUE(PayloadReader::supports(schema::TableSchema::from_json_text(kColumns)));
  EXPECT_FALSE(PayloadReader::supports(
      schema::TableSchema::from_json_text(R"([{"name": "j", "type": "json"}])")));
  EXPECT_FALSE(PayloadReader::supports(
      schema::TableSchema::from_json_text(R"([{"name": "v", "type": "integer[]"}])")));
}

}  // namespace
}  // namespace duckmesh::commit
