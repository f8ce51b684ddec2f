// Per-event rules of validate_events() and the canonical payloads it writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "schema/binary_payload.hpp"
#include "unit/ingest/ingest_test_support.hpp"

namespace duckmesh::ingest {
namespace {

using testing::check_one;
using testing::expect_error;
using ::testing::HasSubstr;
using testing::make_schema;

// A schema with one nullable column `v` of `type` and optional constraints.
schema::TableSchema column(const std::string& type, const std::string& extra = "") {
  return make_schema(R"([{"name":"v","type":")" + type + "\"" + (extra.empty() ? "" : "," + extra) +
                     "}]");
}

std::string v(const std::string& json) {
  return "{\"v\":" + json + "}";
}

// --- parsing -----------------------------------------------------------

TEST(ValidationTest, DuplicateKeys) {
  auto s = make_schema(R"([{"name":"id","type":"bigint"},{"name":"doc","type":"json"}])");
  EXPECT_REFUSED(check_one(R"({"id":1,"id":2})", s), "id", "duplicate_key");
  EXPECT_REFUSED(check_one(R"({"id":1,"doc":{"a":1,"b":2,"a":3}})", s), "doc", "duplicate_key");
  EXPECT_REFUSED(check_one(R"({"doc":[{"k":1},{"k":2,"k":2}]})", s), "doc", "duplicate_key");
  // The same key in different objects is fine.
  EXPECT_PAYLOAD(check_one(R"({"doc":[{"k":1},{"k":2}]})", s), R"({"doc":[{"k":1},{"k":2}]})");
  // Many keys: the sorted path of the duplicate check.
  std::string many = "{";
  for (int i = 0; i < 40; ++i) many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_PAYLOAD(check_one(R"({"doc":)" + many + "\"k40\":0}}", s),
                 R"({"doc":)" + many + "\"k40\":0}}");
  EXPECT_REFUSED(check_one(R"({"doc":)" + many + "\"k17\":0}}", s), "doc", "duplicate_key");
}

// Tables of scalar columns get binary payloads; a json or list column keeps
// the canonical JSON form, which the commit stages for read_json.
TEST(ValidationTest, ScalarTablesGetBinaryPayloadsAndOthersCanonicalJson) {
  auto scalar = make_schema(R"([{"name": "id", "type": "bigint"},
                                {"name": "at", "type": "timestamp"}])");
  auto o = check_one(R"({"at":"2026-11-25T12:30:00+02:00","id":7})", scalar);
  EXPECT_TRUE(o.binary);
  EXPECT_EQ(o.payload, R"({"id":7,"at":"2026-11-25 10:30:00+00:00"})");
  auto listed = make_schema(R"([{"name": "id", "type": "bigint"},
                                {"name": "tags", "type": "varchar[]"}])");
  o = check_one(R"({"tags":["a",null],"id":7})", listed);
  EXPECT_FALSE(o.binary);
  EXPECT_EQ(o.payload, R"({"id":7,"tags":["a",null]})");
  auto documents = make_schema(R"([{"name": "doc", "type": "json"}])");
  EXPECT_FALSE(check_one(R"({"doc":{"k":1}})", documents).binary);
}

TEST(ValidationTest, InvalidUtf8InOneArrayElementRefusesOnlyThatElement) {
  auto s = column("varchar");
  auto r = validate_events(
      "[{\"v\":\"ok\"},{\"v\":\"bad \xFF\"},{\"v\":\"\xC3\xA9t\xC3\xA9\"},{\"\xC0\xAF\":1}]",
      BodyFormat::json, s, {});
  EXPECT_EQ(r.total, 4u);
  ASSERT_EQ(r.valid.size(), 2u);
  EXPECT_EQ(schema::payload_json(r.valid[0].payload), R"({"v":"ok"})");
  EXPECT_EQ(schema::payload_json(r.valid[1].payload), "{\"v\":\"\xC3\xA9t\xC3\xA9\"}");
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].index, 1u);
  EXPECT_EQ(r.rejected[0].code, "invalid_utf8");
  EXPECT_EQ(r.rejected[1].index, 3u);  // an overlong encoding in a key
  EXPECT_EQ(r.rejected[1].code, "invalid_utf8");
}

TEST(ValidationTest, InvalidUtf8InNdjsonAndSurrogates) {
  auto s = column("varchar");
  EXPECT_REFUSED(check_one("{\"v\":\"\xED\xA0\x80\"}", s), "v",
                 "invalid_utf8");                                          // encoded surrogate
  EXPECT_REFUSED(check_one(R"({"v":"\ud800"})", s), "v", "invalid_utf8");  // unpaired escape
  EXPECT_REFUSED(check_one(R"({"v":"\udc00x"})", s), "v", "invalid_utf8");
  // A surrogate pair escape is one code point, written back as UTF-8.
  EXPECT_PAYLOAD(check_one(R"({"v":"\ud83d\ude00"})", s), "{\"v\":\"\xF0\x9F\x98\x80\"}");
}

TEST(ValidationTest, NanInfinityAndHugeNumbers) {
  auto d = column("double");
  EXPECT_REFUSED(check_one(v("NaN"), d), "v", "invalid_json");
  EXPECT_REFUSED(check_one(v("Infinity"), d), "v", "invalid_json");
  EXPECT_REFUSED(check_one(v("-Infinity"), d), "v", "invalid_json");
  EXPECT_REFUSED(check_one(v("1e400"), d), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("-1.5e309"), d), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("1e99999999999"), d), "v", "out_of_range");
  EXPECT_PAYLOAD(check_one(v("1.7976931348623157e308"), d), v("1.7976931348623157e+308"));
  // Too small to represent: rounds to zero, like any other rounding.
  EXPECT_PAYLOAD(check_one(v("1e-400"), d), v("0"));
  EXPECT_PAYLOAD(check_one(v("-1e-400"), d), v("-0.0"));
  auto j = column("json");
  EXPECT_REFUSED(check_one(v("{\"a\":[1,1e400]}"), j), "v", "out_of_range");
}

TEST(ValidationTest, NestingDepth) {
  auto j = column("json");
  std::string ok = std::string(32, '[') + std::string(32, ']');
  EXPECT_PAYLOAD(check_one(v(ok), j), v(ok));
  std::string deep = std::string(33, '[') + std::string(33, ']');
  EXPECT_REFUSED(check_one(v(deep), j), "v", "too_deep");
  // Deeper than the schema: an object or array where a scalar belongs.
  EXPECT_REFUSED(check_one(v("{\"a\":1}"), column("integer")), "v", "type");
  EXPECT_REFUSED(check_one(v("[1]"), column("varchar")), "v", "type");
  EXPECT_REFUSED(check_one(v("[[1]]"), column("integer[]")), "v", "type");
}

// --- numbers -----------------------------------------------------------

TEST(ValidationTest, IntegerBounds) {
  auto s = column("integer");
  EXPECT_PAYLOAD(check_one(v("2147483647"), s), v("2147483647"));
  EXPECT_PAYLOAD(check_one(v("-2147483648"), s), v("-2147483648"));
  EXPECT_REFUSED(check_one(v("2147483648"), s), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("-2147483649"), s), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("1e10"), s), "v", "out_of_range");
  EXPECT_PAYLOAD(check_one(v("-0"), s), v("0"));
  EXPECT_PAYLOAD(check_one(v("1.0"), s), v("1"));
  EXPECT_PAYLOAD(check_one(v("12e2"), s), v("1200"));
  EXPECT_PAYLOAD(check_one(v("1.5e1"), s), v("15"));
  EXPECT_REFUSED(check_one(v("1.5"), s), "v", "type");
  EXPECT_REFUSED(check_one(v("1e-1"), s), "v", "type");
  EXPECT_REFUSED(check_one(v("\"1\""), s), "v", "type");
  EXPECT_REFUSED(check_one(v("true"), s), "v", "type");
  auto o = check_one(v("2147483648"), s);
  EXPECT_THAT(o.error.message, HasSubstr("-2147483648 to 2147483647"));
}

TEST(ValidationTest, BigintBounds) {
  auto s = column("bigint");
  EXPECT_PAYLOAD(check_one(v("9223372036854775807"), s), v("9223372036854775807"));
  EXPECT_PAYLOAD(check_one(v("-9223372036854775808"), s), v("-9223372036854775808"));
  EXPECT_REFUSED(check_one(v("9223372036854775808"), s), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("-9223372036854775809"), s), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("18446744073709551616"), s), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("1e19"), s), "v", "out_of_range");
  EXPECT_PAYLOAD(check_one(v("9.223372036854775807e18"), s), v("9223372036854775807"));
  EXPECT_REFUSED(check_one(v("9223372036854775807.5"), s), "v", "type");
}

TEST(ValidationTest, Doubles) {
  auto s = column("double");
  EXPECT_PAYLOAD(check_one(v("0.1"), s), v("0.1"));
  EXPECT_PAYLOAD(check_one(v("5"), s), v("5"));
  EXPECT_PAYLOAD(check_one(v("-2.50"), s), v("-2.5"));
  EXPECT_PAYLOAD(check_one(v("1E3"), s), v("1000"));
  EXPECT_PAYLOAD(check_one(v("5e-324"), s), v("5e-324"));
  EXPECT_REFUSED(check_one(v("\"1.5\""), s), "v", "type");
}

TEST(ValidationTest, DecimalPrecisionAndScale) {
  auto s = column("decimal(20,2)");  // 18 digits before the point, 2 after
  EXPECT_PAYLOAD(check_one(v("123456789012345678.91"), s), v("\"123456789012345678.91\""));
  EXPECT_PAYLOAD(check_one(v("\"123456789012345678.91\""), s), v("\"123456789012345678.91\""));
  EXPECT_PAYLOAD(check_one(v("-999999999999999999.99"), s), v("\"-999999999999999999.99\""));
  EXPECT_REFUSED(check_one(v("1234567890123456789"), s), "v", "precision");
  EXPECT_REFUSED(check_one(v("1234567890123456789.1"), s), "v", "precision");
  EXPECT_REFUSED(check_one(v("0.001"), s), "v", "precision");
  EXPECT_REFUSED(check_one(v("\"1.234\""), s), "v", "precision");
  EXPECT_REFUSED(check_one(v("1e18"), s), "v", "precision");
  EXPECT_PAYLOAD(check_one(v("1e17"), s), v("\"100000000000000000.00\""));
  EXPECT_PAYLOAD(check_one(v("1.230"), s), v("\"1.23\""));  // trailing zeros lose nothing
  EXPECT_PAYLOAD(check_one(v("5"), s), v("\"5.00\""));
  EXPECT_PAYLOAD(check_one(v("-0.5"), s), v("\"-0.50\""));
  EXPECT_PAYLOAD(check_one(v("-0.00"), s), v("\"0.00\""));
  EXPECT_PAYLOAD(check_one(v("15e-1"), s), v("\"1.50\""));
  EXPECT_PAYLOAD(check_one(v("0.000000"), s), v("\"0.00\""));
  EXPECT_REFUSED(check_one(v("\"abc\""), s), "v", "type");
  EXPECT_REFUSED(check_one(v("\"1,5\""), s), "v", "type");
  EXPECT_REFUSED(check_one(v("\" 1\""), s), "v", "type");
  EXPECT_REFUSED(check_one(v("\"+1\""), s), "v", "type");
  EXPECT_REFUSED(check_one(v("true"), s), "v", "type");
  auto o = check_one(v("0.001"), s);
  EXPECT_THAT(o.error.message, HasSubstr("at most 2"));

  auto wide = column("decimal(38,0)");
  EXPECT_PAYLOAD(check_one(v(std::string(38, '9')), wide), v("\"" + std::string(38, '9') + "\""));
  EXPECT_REFUSED(check_one(v(std::string(39, '9')), wide), "v", "precision");
  EXPECT_REFUSED(check_one(v("1" + std::string(60, '0') + ".5"), wide), "v", "precision");
  auto fraction = column("decimal(5,5)");
  EXPECT_PAYLOAD(check_one(v("0.12345"), fraction), v("\"0.12345\""));
  EXPECT_PAYLOAD(check_one(v("-0.00001"), fraction), v("\"-0.00001\""));
  EXPECT_REFUSED(check_one(v("1.0"), fraction), "v", "precision");
  EXPECT_REFUSED(check_one(v("0.123456"), fraction), "v", "precision");
}

TEST(ValidationTest, MinimumAndMaximum) {
  auto i = column("integer", R"("constraints":{"minimum":0,"maximum":10})");
  EXPECT_PAYLOAD(check_one(v("0"), i), v("0"));
  EXPECT_PAYLOAD(check_one(v("10"), i), v("10"));
  EXPECT_REFUSED(check_one(v("-1"), i), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("11"), i), "v", "out_of_range");
  EXPECT_THAT(check_one(v("11"), i).error.message, HasSubstr("at most 10"));
  auto d = column("double", R"("minimum":-0.5,"maximum":0.5)");
  EXPECT_PAYLOAD(check_one(v("0.5"), d), v("0.5"));
  EXPECT_REFUSED(check_one(v("0.50001"), d), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("-0.6"), d), "v", "out_of_range");
  auto dec = column("decimal(10,2)", R"("constraints":{"minimum":1})");
  EXPECT_PAYLOAD(check_one(v("\"1.00\""), dec), v("\"1.00\""));
  EXPECT_REFUSED(check_one(v("\"0.99\""), dec), "v", "out_of_range");
  auto list = column("bigint[]", R"("constraints":{"maximum":3})");
  EXPECT_PAYLOAD(check_one(v("[1,3]"), list), v("[1,3]"));
  EXPECT_REFUSED(check_one(v("[1,4]"), list), "v", "out_of_range");
}

// --- strings -----------------------------------------------------------

TEST(ValidationTest, LengthsCountCharactersNotBytes) {
  auto c = column("char(3)");
  EXPECT_PAYLOAD(check_one(v("\"abc\""), c), v("\"abc\""));
  EXPECT_PAYLOAD(check_one(v("\"\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\""), c),
                 v("\"\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\""));  // three euro signs, 9 bytes
  EXPECT_PAYLOAD(check_one(v("\"\xF0\x9F\x98\x80"
                             "ab\""),
                           c),
                 v("\"\xF0\x9F\x98\x80"
                   "ab\""));
  EXPECT_REFUSED(check_one(v("\"ab\""), c), "v", "length");
  EXPECT_REFUSED(check_one(v("\"abcd\""), c), "v", "length");
  EXPECT_REFUSED(check_one(v("\"\xE2\x82\xAC\xE2\x82\xAC\""), c), "v", "length");
  EXPECT_THAT(check_one(v("\"ab\""), c).error.message, HasSubstr("exactly 3"));
  auto vc = column("varchar(5)");
  EXPECT_PAYLOAD(check_one(v("\"h\xC3\xA9llo\""), vc),
                 v("\"h\xC3\xA9llo\""));  // 5 characters, 6 bytes
  EXPECT_REFUSED(check_one(v("\"h\xC3\xA9llo!\""), vc), "v", "max_length");
  auto constrained = column("varchar", R"("constraints":{"max_length":2})");
  EXPECT_PAYLOAD(check_one(v("\"\xC3\xA9\xC3\xA9\""), constrained), v("\"\xC3\xA9\xC3\xA9\""));
  EXPECT_REFUSED(check_one(v("\"abc\""), constrained), "v", "max_length");
  EXPECT_REFUSED(check_one(v("1"), vc), "v", "type");
}

TEST(ValidationTest, StringsAreEscapedCanonically) {
  auto s = column("varchar");
  EXPECT_PAYLOAD(check_one(R"({"v":"q\"b\\s\/n\n\t\u0001\u00e9"})", s),
                 "{\"v\":\"q\\\"b\\\\s/n\\n\\t\\u0001\xC3\xA9\"}");
}

TEST(ValidationTest, EnumAndPattern) {
  auto e = column("varchar", R"("constraints":{"enum":["EUR","USD"]})");
  EXPECT_PAYLOAD(check_one(v("\"EUR\""), e), v("\"EUR\""));
  EXPECT_REFUSED(check_one(v("\"eur\""), e), "v", "enum");
  EXPECT_THAT(check_one(v("\"GBP\""), e).error.message, HasSubstr("\"EUR\", \"USD\""));
  auto p = column("varchar", R"("constraints":{"pattern":"[a-z]+-[0-9]{2}"})");
  EXPECT_PAYLOAD(check_one(v("\"ab-12\""), p), v("\"ab-12\""));
  // The whole value must match, not a part of it.
  EXPECT_REFUSED(check_one(v("\"ab-123\""), p), "v", "pattern");
  EXPECT_REFUSED(check_one(v("\"1ab-12\""), p), "v", "pattern");
  // Long values are refused before std::regex could exhaust the stack on them.
  auto any = column("varchar", R"("constraints":{"pattern":"(a|b)*"})");
  EXPECT_PAYLOAD(check_one(v("\"" + std::string(2048, 'a') + "\""), any),
                 v("\"" + std::string(2048, 'a') + "\""));
  auto long_value = check_one(v("\"" + std::string(100000, 'a') + "\""), any);
  EXPECT_REFUSED(long_value, "v", "pattern");
  EXPECT_THAT(long_value.error.message, HasSubstr("at most 2048 bytes"));
  auto tags = column("varchar[]", R"("constraints":{"enum":["a","b"]})");
  EXPECT_PAYLOAD(check_one(v("[\"a\",null,\"b\"]"), tags), v("[\"a\",null,\"b\"]"));
  auto o = check_one(v("[\"a\",\"c\"]"), tags);
  EXPECT_REFUSED(o, "v", "enum");
  EXPECT_THAT(o.error.message, HasSubstr("element 1"));
}

// --- temporal, uuid, boolean, json, lists ------------------------------

TEST(ValidationTest, Dates) {
  auto s = column("date");
  EXPECT_PAYLOAD(check_one(v("\"2026-02-28\""), s), v("\"2026-02-28\""));
  EXPECT_PAYLOAD(check_one(v("\"2024-02-29\""), s), v("\"2024-02-29\""));
  EXPECT_PAYLOAD(check_one(v("\"2000-02-29\""), s), v("\"2000-02-29\""));
  for (const char* bad :
       {"2026-02-30", "2023-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
        "0000-01-01", "2026-2-3", "2026/02/03", "2026-02-03T00:00:00Z", " 2026-02-03"}) {
    EXPECT_REFUSED(check_one(v("\"" + std::string(bad) + "\""), s), "v", "invalid_date");
  }
  EXPECT_REFUSED(check_one(v("20260203"), s), "v", "type");
}

TEST(ValidationTest, TimestampsAreNormalizedToUtc) {
  auto tz = column("timestamptz");
  auto check = [&](const std::string& in, const std::string& out) {
    EXPECT_PAYLOAD(check_one(v("\"" + in + "\""), tz), v("\"" + out + "\""));
  };
  check("2026-11-25T10:00:00Z", "2026-11-25 10:00:00+00:00");
  check("2026-11-25t10:00:00z", "2026-11-25 10:00:00+00:00");
  check("2026-11-25T10:00:00+02:00", "2026-11-25 08:00:00+00:00");
  check("2026-11-25 01:30:00.5-03:30", "2026-11-25 05:00:00.500000+00:00");
  check("2026-11-25T10:00:00.123456+00:00", "2026-11-25 10:00:00.123456+00:00");
  check("2026-11-25T10:00:00.000+00:00", "2026-11-25 10:00:00+00:00");
  check("2026-12-31T23:30:00-01:00", "2027-01-01 00:30:00+00:00");
  check("2024-03-01T00:30:00+01:00", "2024-02-29 23:30:00+00:00");
  check("0001-01-01T00:00:00Z", "0001-01-01 00:00:00+00:00");
  check("9999-12-31T23:59:59.999999Z", "9999-12-31 23:59:59.999999+00:00");
  for (const char* bad :
       {"2026-11-25T10:00:00", "2026-11-25T10:00:00.1234567Z", "2026-11-25T24:00:00Z",
        "2026-11-25T23:59:60Z", "2026-11-25T10:60:00Z", "2026-02-30T10:00:00Z", "2026-11-25T10:00Z",
        "2026-11-25T10:00:00+0200", "2026-11-25T10:00:00+24:00", "2026-11-25T10:00:00.Z",
        "2026-11-25X10:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-02:00",
        "2026-11-25T10:00:00Z "}) {
    EXPECT_REFUSED(check_one(v("\"" + std::string(bad) + "\""), tz), "v", "invalid_timestamp");
  }
  EXPECT_THAT(check_one(v("\"2026-11-25T10:00:00\""), tz).error.message,
              HasSubstr("offset is required"));
  EXPECT_REFUSED(check_one(v("1764064800"), tz), "v", "type");

  // Without a time zone the offset is optional (then UTC), and still applied.
  auto ts = column("timestamp");
  EXPECT_PAYLOAD(check_one(v("\"2026-11-25T10:00:00\""), ts), v("\"2026-11-25 10:00:00+00:00\""));
  EXPECT_PAYLOAD(check_one(v("\"2026-11-25 10:00:00+02:00\""), ts),
                 v("\"2026-11-25 08:00:00+00:00\""));
}

TEST(ValidationTest, Uuids) {
  auto s = column("uuid");
  EXPECT_PAYLOAD(check_one(v("\"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11\""), s),
                 v("\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""));
  for (const char* bad :
       {"a0eebc999c0b4ef8bb6d6bb9bd380a11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b4-ef8-bb6d-6bb9bd380a11"}) {
    EXPECT_REFUSED(check_one(v("\"" + std::string(bad) + "\""), s), "v", "invalid_uuid");
  }
}

TEST(ValidationTest, Booleans) {
  auto s = column("boolean");
  EXPECT_PAYLOAD(check_one(v("true"), s), v("true"));
  EXPECT_PAYLOAD(check_one(v("false"), s), v("false"));
  EXPECT_REFUSED(check_one(v("1"), s), "v", "type");
  EXPECT_REFUSED(check_one(v("\"true\""), s), "v", "type");
}

TEST(ValidationTest, JsonColumnsKeepTheValueItself) {
  auto s = column("json");
  EXPECT_PAYLOAD(check_one(v(R"( { "a" : [1, 2.50, "x\n", null, true], "b": {} } )"), s),
                 v(R"({"a":[1,2.50,"x\n",null,true],"b":{}})"));
  EXPECT_PAYLOAD(check_one(v("\"text\""), s), v("\"text\""));
  EXPECT_PAYLOAD(check_one(v("12345678901234567890123"), s), v("12345678901234567890123"));
  EXPECT_PAYLOAD(check_one(v("null"), s), "{}");
}

TEST(ValidationTest, Lists) {
  auto ints = column("integer[]");
  EXPECT_PAYLOAD(check_one(v("[1, null, -3]"), ints), v("[1,null,-3]"));
  EXPECT_PAYLOAD(check_one(v("[]"), ints), v("[]"));
  auto o = check_one(v("[1, 2.5]"), ints);
  EXPECT_REFUSED(o, "v", "type");
  EXPECT_THAT(o.error.message, HasSubstr("element 1"));
  EXPECT_REFUSED(check_one(v("[1, 2147483648]"), ints), "v", "out_of_range");
  EXPECT_REFUSED(check_one(v("1"), ints), "v", "type");
  EXPECT_REFUSED(check_one(v("{\"a\":1}"), ints), "v", "type");
  auto stamps = column("timestamptz[]");
  EXPECT_PAYLOAD(check_one(v("[\"2026-11-25T10:00:00+01:00\",null]"), stamps),
                 v("[\"2026-11-25 09:00:00+00:00\",null]"));
  EXPECT_REFUSED(check_one(v("[\"yesterday\"]"), stamps), "v", "invalid_timestamp");
  auto decimals = column("decimal(4,1)[]");
  EXPECT_PAYLOAD(check_one(v("[1, \"2.5\", -0.1]"), decimals), v("[\"1.0\",\"2.5\",\"-0.1\"]"));
  EXPECT_REFUSED(check_one(v("[1234]"), decimals), "v", "precision");
  auto docs = column("json[]");
  EXPECT_PAYLOAD(check_one(v("[{\"a\":1},[2],null]"), docs), v("[{\"a\":1},[2],null]"));
}

// --- schema and options ------------------------------------------------

const schema::TableSchema& orders() {
  static const auto s = make_schema(R"J([
      {"name":"id","type":"bigint","nullable":false},
      {"name":"status","type":"varchar","nullable":false,"default":"new"},
      {"name":"qty","type":"integer","default":1},
      {"name":"note","type":"varchar"},
      {"name":"price","type":"decimal(10,2)","nullable":false}])J");
  return s;
}

TEST(ValidationTest, RequiredNullAndDefaults) {
  EXPECT_PAYLOAD(check_one(R"({"id":1,"price":2})", orders()),
                 R"({"id":1,"status":"new","qty":1,"price":"2.00"})");
  // Payload order is the schema's, whatever the event's order.
  EXPECT_PAYLOAD(check_one(R"({"price":2,"note":"n","qty":5,"status":"paid","id":1})", orders()),
                 R"({"id":1,"status":"paid","qty":5,"note":"n","price":"2.00"})");
  // An explicit null is kept as null (left out), not replaced by the default.
  EXPECT_PAYLOAD(check_one(R"({"id":1,"price":2,"qty":null,"note":null})", orders()),
                 R"({"id":1,"status":"new","price":"2.00"})");
  EXPECT_REFUSED(check_one(R"({"price":2})", orders()), "id", "required");
  EXPECT_REFUSED(check_one(R"({"id":null,"price":2})", orders()), "id", "null");
  EXPECT_REFUSED(check_one(R"({"id":1,"price":2,"status":null})", orders()), "status", "null");
  EXPECT_REFUSED(check_one(R"({"id":1})", orders()), "price", "required");
}

// Fields are matched to columns by name in every event, whatever order the
// events before it in the batch used.
TEST(ValidationTest, EventsOfOneBatchMayOrderTheirFieldsDifferently) {
  ValidatorOptions ignore;
  ignore.unknown_fields = UnknownFields::ignore;
  auto r = validate_events(
      "{\"id\":1,\"status\":\"a\",\"qty\":2,\"note\":\"x\",\"price\":3}\n"
      "{\"price\":4,\"qty\":5,\"id\":6,\"note\":\"y\",\"status\":\"b\"}\n"
      "{\"id\":7,\"extra\":0,\"qty\":8,\"note\":\"z\",\"price\":9}\n"
      "{\"id\":10,\"status\":\"c\",\"qty\":11,\"note\":\"w\",\"price\":12}\n"
      "{\"note\":\"v\",\"id\":13,\"price\":14}\n",
      BodyFormat::ndjson, orders(), ignore);
  ASSERT_EQ(r.valid.size(), 5u);
  EXPECT_EQ(schema::payload_json(r.valid[0].payload),
            R"({"id":1,"status":"a","qty":2,"note":"x","price":"3.00"})");
  EXPECT_EQ(schema::payload_json(r.valid[1].payload),
            R"({"id":6,"status":"b","qty":5,"note":"y","price":"4.00"})");
  EXPECT_EQ(schema::payload_json(r.valid[2].payload),
            R"({"id":7,"status":"new","qty":8,"note":"z","price":"9.00"})");
  EXPECT_EQ(schema::payload_json(r.valid[3].payload),
            R"({"id":10,"status":"c","qty":11,"note":"w","price":"12.00"})");
  EXPECT_EQ(schema::payload_json(r.valid[4].payload),
            R"({"id":13,"status":"new","qty":1,"note":"v","price":"14.00"})");
  // The same place holding an unknown field after a known one is refused
  // under the default policy.
  auto refused = validate_events("{\"id\":1,\"price\":2}\n{\"id\":1,\"prize\":2}\n",
                                 BodyFormat::ndjson, orders(), {});
  ASSERT_EQ(refused.rejected.size(), 1u);
  EXPECT_EQ(refused.rejected[0].index, 1u);
  EXPECT_EQ(refused.rejected[0].field, "prize");
  EXPECT_EQ(refused.rejected[0].code, "unknown_field");
}

TEST(ValidationTest, DefaultsThatDoNotFitTheirColumnAreASchemaError) {
  auto s = make_schema(R"([{"name":"n","type":"integer","default":"many"}])");
  auto e = expect_error([&] { check_one(R"({})", s); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("column 'n'"));
  auto t =
      make_schema(R"([{"name":"t","type":"timestamptz","default":"2026-01-01T01:00:00+01:00"}])");
  EXPECT_PAYLOAD(check_one(R"({})", t), R"({"t":"2026-01-01 00:00:00+00:00"})");
}

TEST(ValidationTest, UnknownFields) {
  auto s = make_schema(R"([{"name":"id","type":"bigint"}])");
  auto o = check_one(R"({"id":1,"extra":{"x":1}})", s);
  EXPECT_REFUSED(o, "extra", "unknown_field");
  EXPECT_THAT(o.error.message, HasSubstr("columns: id"));
  ValidatorOptions ignore;
  ignore.unknown_fields = UnknownFields::ignore;
  EXPECT_PAYLOAD(check_one(R"({"extra":{"x":1},"id":1,"_dm_position":5})", s, ignore),
                 R"({"id":1})");
  // "_op" belongs to keyed tables only.
  EXPECT_REFUSED(check_one(R"({"id":1,"_op":"delete"})", s), "_op", "unknown_field");
  EXPECT_PAYLOAD(check_one(R"({"id":1,"_op":"delete"})", s, ignore), R"({"id":1})");
}

TEST(ValidationTest, IdempotencyKeyField) {
  auto s = make_schema(R"([{"name":"id","type":"bigint"}])");
  auto o = check_one(R"({"id":1,"_idempotency_key":"evt-1"})", s);
  EXPECT_PAYLOAD(o, R"({"id":1})");
  EXPECT_EQ(o.key, "evt-1");
  EXPECT_EQ(check_one(R"({"id":1})", s).key, "");
  EXPECT_EQ(check_one(R"({"id":1,"_idempotency_key":")" + std::string(256, 'k') + "\"}", s).key,
            std::string(256, 'k'));
  for (std::string bad : {std::string("\"\""), std::string("7"), std::string("null"),
                          std::string("[\"a\"]"), "\"" + std::string(257, 'k') + "\""}) {
    EXPECT_REFUSED(check_one(R"({"id":1,"_idempotency_key":)" + bad + "}", s), "_idempotency_key",
                   "invalid_idempotency_key");
  }
}

TEST(ValidationTest, IdempotencyKeyColumn) {
  auto s = make_schema(R"([{"name":"event_id","type":"uuid"},{"name":"seq","type":"bigint"},
                           {"name":"name","type":"varchar"},{"name":"at","type":"timestamptz"}])");
  ValidatorOptions by_uuid;
  by_uuid.idempotency_column = "event_id";
  auto o = check_one(R"({"event_id":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"})", s, by_uuid);
  EXPECT_PAYLOAD(o, R"({"event_id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"})");
  EXPECT_EQ(o.key, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  // The explicit field wins over the column.
  EXPECT_EQ(
      check_one(R"({"event_id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","_idempotency_key":"k"})", s,
                by_uuid)
          .key,
      "k");
  // No value, no key.
  EXPECT_EQ(check_one(R"({"seq":1})", s, by_uuid).key, "");
  EXPECT_EQ(check_one(R"({"event_id":null})", s, by_uuid).key, "");

  ValidatorOptions by_seq;
  by_seq.idempotency_column = "seq";
  EXPECT_EQ(check_one(R"({"seq":42.0})", s, by_seq).key, "42");
  ValidatorOptions by_name;
  by_name.idempotency_column = "name";
  EXPECT_EQ(check_one(R"({"name":"a\"b"})", s, by_name).key, "a\"b");
  EXPECT_REFUSED(check_one(R"({"name":""})", s, by_name), "name", "invalid_idempotency_key");
  EXPECT_REFUSED(check_one(R"({"name":")" + std::string(300, 'x') + "\"}", s, by_name), "name",
                 "invalid_idempotency_key");
  ValidatorOptions by_time;
  by_time.idempotency_column = "at";
  EXPECT_EQ(check_one(R"({"at":"2026-11-25T10:00:00+01:00"})", s, by_time).key,
            "2026-11-25 09:00:00+00:00");
  auto dated =
      make_schema(R"J([{"name":"day","type":"date"},{"name":"price","type":"decimal(6,2)"}])J");
  ValidatorOptions by_day;
  by_day.idempotency_column = "day";
  EXPECT_EQ(check_one(R"({"day":"2026-02-28"})", dated, by_day).key, "2026-02-28");
  ValidatorOptions by_price;
  by_price.idempotency_column = "price";
  EXPECT_EQ(check_one(R"({"price":1.5})", dated, by_price).key, "1.50");

  auto with_default = make_schema(R"([{"name":"src","type":"varchar","default":"a\"b"}])");
  ValidatorOptions by_src;
  by_src.idempotency_column = "src";
  auto d = check_one(R"({})", with_default, by_src);
  EXPECT_PAYLOAD(d, R"({"src":"a\"b"})");
  EXPECT_EQ(d.key, "a\"b");

  ValidatorOptions missing;
  missing.idempotency_column = "nope";
  auto e = expect_error([&] { check_one(R"({})", s, missing); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("'nope'"));
}

const schema::TableSchema& accounts() {
  static const auto s = make_schema(R"J([
      {"name":"tenant","type":"varchar","nullable":true},
      {"name":"id","type":"bigint","nullable":false},
      {"name":"balance","type":"decimal(12,2)","nullable":false},
      {"name":"tier","type":"varchar","nullable":false,"default":"basic"}])J");
  return s;
}

ValidatorOptions keyed() {
  ValidatorOptions o;
  o.keyed = true;
  o.primary_key = {"tenant", "id"};
  return o;
}

TEST(ValidationTest, KeyedUpsert) {
  EXPECT_PAYLOAD(check_one(R"({"tenant":"t","id":1,"balance":5})", accounts(), keyed()),
                 R"({"tenant":"t","id":1,"balance":"5.00","tier":"basic"})");
  EXPECT_PAYLOAD(
      check_one(R"({"_op":"upsert","tenant":"t","id":1,"balance":5})", accounts(), keyed()),
      R"({"tenant":"t","id":1,"balance":"5.00","tier":"basic"})");
  // Primary key columns are required and non-null even when the schema lets them be null.
  EXPECT_REFUSED(check_one(R"({"id":1,"balance":5})", accounts(), keyed()), "tenant", "required");
  EXPECT_REFUSED(check_one(R"({"tenant":null,"id":1,"balance":5})", accounts(), keyed()), "tenant",
                 "null");
  EXPECT_REFUSED(check_one(R"({"tenant":"t","id":1})", accounts(), keyed()), "balance", "required");
}

TEST(ValidationTest, KeyedDelete) {
  EXPECT_PAYLOAD(check_one(R"({"_op":"delete","tenant":"t","id":1})", accounts(), keyed()),
                 R"({"tenant":"t","id":1,"_dm_op":"delete"})");
  // Other columns may come along; they are still checked.
  EXPECT_PAYLOAD(
      check_one(R"({"_op":"delete","tenant":"t","id":1,"balance":"1.5"})", accounts(), keyed()),
      R"({"tenant":"t","id":1,"balance":"1.50","_dm_op":"delete"})");
  EXPECT_REFUSED(
      check_one(R"({"_op":"delete","tenant":"t","id":1,"balance":"x"})", accounts(), keyed()),
      "balance", "type");
  EXPECT_REFUSED(check_one(R"({"_op":"delete","tenant":"t"})", accounts(), keyed()), "id",
                 "required");
  EXPECT_REFUSED(check_one(R"({"_op":"delete","tenant":"t","id":null})", accounts(), keyed()), "id",
                 "null");
  EXPECT_REFUSED(check_one(R"({"_op":"remove","tenant":"t","id":1})", accounts(), keyed()), "_op",
                 "invalid_op");
  EXPECT_REFUSED(check_one(R"({"_op":1,"tenant":"t","id":1})", accounts(), keyed()), "_op",
                 "invalid_op");
  EXPECT_REFUSED(check_one(R"({"_op":"DELETE","tenant":"t","id":1})", accounts(), keyed()), "_op",
                 "invalid_op");
}

TEST(ValidationTest, KeyedOptionsMustNameColumns) {
  ValidatorOptions no_key;
  no_key.keyed = true;
  EXPECT_EQ(expect_error([&] { check_one(R"({"id":1})", accounts(), no_key); }).code(),
            ErrorCode::invalid_input);
  ValidatorOptions bad_key = keyed();
  bad_key.primary_key = {"idx"};
  auto e = expect_error([&] { check_one(R"({"id":1})", accounts(), bad_key); });
  EXPECT_THAT(std::string(e.message()), HasSubstr("'idx'"));
}

TEST(ValidationTest, OneBadEventDoesNotStopTheOthers) {
  auto r =
      validate_events(R"([{"id":1,"price":1},{"id":"x","price":1},{"id":3,"price":1},{"price":1}])",
                      BodyFormat::json, orders(), {});
  EXPECT_EQ(r.total, 4u);
  ASSERT_EQ(r.valid.size(), 2u);
  EXPECT_EQ(r.valid[0].index, 0u);
  EXPECT_EQ(r.valid[1].index, 2u);
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].index, 1u);
  EXPECT_EQ(r.rejected[0].field, "id");
  EXPECT_EQ(r.rejected[0].code, "type");
  EXPECT_THAT(r.rejected[0].message, HasSubstr("column 'id' must be a whole number"));
  EXPECT_EQ(r.rejected[1].index, 3u);
  EXPECT_EQ(r.rejected[1].code, "required");
}

}  // namespace
}  // namespace duckmesh::ingest
