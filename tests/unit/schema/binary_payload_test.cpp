// Binary payloads: written by ingest, read back field by field, shown as the
// canonical JSON the validator writes for the same values.
#include "schema/binary_payload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace duckmesh::schema {
namespace {

using ::testing::HasSubstr;

TEST(BinaryPayloadTest, EveryTypeReadsBackAndShowsAsCanonicalJson) {
  std::string p;
  begin_binary_payload(p);
  put_field_name("b", p), put_bool(false, p);
  put_field_name("i", p), put_int32(INT32_MIN, p);
  put_field_name("l", p), put_int64(INT64_MAX, p);
  put_field_name("d", p), put_float64(1e300, p);
  put_field_name("dec", p), put_decimal(-5, 12, 2, p);
  put_field_name("zero", p), put_decimal(0, 5, 3, p);
  put_field_name("whole", p), put_decimal(123, 3, 0, p);
  put_field_name("s", p), put_string("a \"q\"\n\xC3\xA9", p);
  put_field_name("dt", p), put_date(-719162, p);  // 0001-01-01
  put_field_name("ts", p), put_timestamp(-1, p);
  put_field_name("late", p), put_timestamp(253'402'300'799'999'999, p);
  put_field_name("id", p), put_uuid(0xA0EEBC999C0B4EF8ULL, 0xBB6D6BB9BD380A11ULL, p);
  put_field_name("_dm_op", p), put_string("delete", p);
  ASSERT_TRUE(is_binary_payload(p));
  EXPECT_EQ(payload_json(p),
            R"({"b":false,"i":-2147483648,"l":9223372036854775807,"d":1e+300,"dec":"-0.05",)"
            R"("zero":"0.000","whole":"123","s":"a \"q\"\n)"
            "\xC3\xA9"
            R"(","dt":"0001-01-01","ts":"1969-12-31 23:59:59.999999+00:00",)"
            R"("late":"9999-12-31 23:59:59.999999+00:00",)"
            R"("id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","_dm_op":"delete"})");

  BinaryPayloadCursor cursor(p);
  BinaryField f;
  const char* error = nullptr;
  ASSERT_TRUE(cursor.next(f, error));
  EXPECT_EQ(f.name, "b");
  EXPECT_EQ(f.type, FieldType::boolean);
  ASSERT_TRUE(cursor.next(f, error));
  EXPECT_EQ(f.type, FieldType::int32);
  EXPECT_EQ(f.integer, INT32_MIN);
  int fields = 2;
  while (cursor.next(f, error)) ++fields;
  EXPECT_EQ(error, nullptr);
  EXPECT_EQ(fields, 13);
}

TEST(BinaryPayloadTest, OneValueReadsBackOnItsOwn) {
  std::string value;
  put_timestamp(1'795'600'800'500'000, value);
  BinaryField f;
  ASSERT_TRUE(read_binary_value(value, f));
  EXPECT_EQ(f.type, FieldType::timestamp);
  EXPECT_TRUE(f.name.empty());
  std::string json;
  append_field_json(f, json);
  EXPECT_EQ(json, R"("2026-11-25 10:00:00.500000+00:00")");
  EXPECT_FALSE(read_binary_value(value.substr(0, value.size() - 1), f));  // cut short
  EXPECT_FALSE(read_binary_value(value + "x", f));                        // more than one
  EXPECT_FALSE(read_binary_value("", f));
}

TEST(BinaryPayloadTest, JsonPayloadsPassThroughAndAnEmptyBinaryOneIsAnEmptyObject) {
  EXPECT_FALSE(is_binary_payload(R"({"a":1})"));
  EXPECT_FALSE(is_binary_payload(""));
  EXPECT_EQ(payload_json(R"({"a":1})"), R"({"a":1})");
  std::string empty;
  begin_binary_payload(empty);
  EXPECT_EQ(payload_json(empty), "{}");
}

TEST(BinaryPayloadTest, MalformedPayloadsSayWhatIsWrong) {
  auto error_of = [](const std::string& payload) -> std::string {
    try {
      payload_json(payload);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_input);
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  };
  std::string good;
  begin_binary_payload(good);
  put_field_name("name", good), put_string("value", good);
  for (std::size_t size = 2; size < good.size(); ++size) {
    EXPECT_THAT(error_of(good.substr(0, size)), HasSubstr("binary payload")) << size;
  }
  EXPECT_THAT(error_of(std::string("\x01\x00", 2)), HasSubstr("name is empty"));
  EXPECT_THAT(error_of("\x01\x01x\x7f"), HasSubstr("unknown type"));
  std::string late;
  begin_binary_payload(late);
  put_field_name("ts", late), put_timestamp(253'402'300'800'000'000, late);  // year 10000
  EXPECT_THAT(error_of(late), HasSubstr("range"));
  std::string early;
  begin_binary_payload(early);
  put_field_name("dt", early), put_date(-719163, early);  // year 0
  EXPECT_THAT(error_of(early), HasSubstr("range"));
  std::string wide;
  begin_binary_payload(wide);
  put_field_name("dec", wide), put_decimal(-1000, 3, 1, wide);
  EXPECT_THAT(error_of(wide), HasSubstr("range"));
}

}  // namespace
}  // namespace duckmesh::schema
