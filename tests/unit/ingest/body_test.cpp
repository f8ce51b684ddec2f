// The outer shape of bodies (arrays, {"events": [...]}, NDJSON), limits on
// event counts, and gzip decoding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "schema/binary_payload.hpp"
#include "unit/ingest/ingest_test_support.hpp"

namespace duckmesh::ingest {
namespace {

using testing::expect_error;
using ::testing::HasSubstr;
using testing::make_schema;

const schema::TableSchema& id_schema() {
  static const auto s = make_schema(R"([{"name":"id","type":"bigint","nullable":false},
                                        {"name":"s","type":"varchar"}])");
  return s;
}

ValidationResult run(std::string_view body, BodyFormat format = BodyFormat::json,
                     ValidatorOptions options = {}) {
  return validate_events(body, format, id_schema(), options);
}

void expect_rejected(const ValidationResult& r, std::size_t i, const std::string& index_code) {
  for (const auto& e : r.rejected) {
    if (e.index == i) {
      EXPECT_EQ(e.code, index_code) << e.message;
      return;
    }
  }
  ADD_FAILURE() << "event " << i << " was not rejected";
}

// Compresses `data` as one gzip member.
std::string gzip(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(BodyTest, ArrayOfEvents) {
  auto r = run(R"( [ {"id":1,"s":"a"} , {"id":2} ] )");
  EXPECT_EQ(r.total, 2u);
  ASSERT_EQ(r.valid.size(), 2u);
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_EQ(r.valid[0].index, 0u);
  EXPECT_EQ(schema::payload_json(r.valid[0].payload), R"({"id":1,"s":"a"})");
  EXPECT_EQ(r.valid[1].index, 1u);
  EXPECT_EQ(schema::payload_json(r.valid[1].payload), R"({"id":2})");
}

// The accepted events' payloads are slices of one block; an event refused
// after part of its payload was written leaves nothing in its neighbours'.
TEST(BodyTest, AcceptedPayloadsShareOneBlockAndARefusedOneLeavesNoBytes) {
  auto r = run(R"([{"id":1,"s":"first"},{"id":2,"s":["half written"]},{"id":3,"s":"x"}])");
  ASSERT_EQ(r.valid.size(), 2u);
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(schema::payload_json(r.valid[0].payload), R"({"id":1,"s":"first"})");
  EXPECT_EQ(schema::payload_json(r.valid[1].payload), R"({"id":3,"s":"x"})");
  EXPECT_TRUE(r.valid[0].payload.is_slice());
  // One after the other in the block: nothing of the refused event between.
  EXPECT_EQ(r.valid[0].payload.data() + r.valid[0].payload.size(), r.valid[1].payload.data());
}

TEST(BodyTest, EventsObject) {
  auto r = run("{ \"events\" : [{\"id\":1},\n{\"id\":2},{\"id\":3}] }\n");
  EXPECT_EQ(r.total, 3u);
  ASSERT_EQ(r.valid.size(), 3u);
  EXPECT_EQ(schema::payload_json(r.valid[2].payload), R"({"id":3})");
}

TEST(BodyTest, ByteOrderMarkIsSkipped) {
  EXPECT_EQ(run("\xEF\xBB\xBF[{\"id\":1}]").valid.size(), 1u);
  EXPECT_EQ(run("\xEF\xBB\xBF{\"id\":1}\n", BodyFormat::ndjson).valid.size(), 1u);
}

TEST(BodyTest, BracketsAndQuotesInsideStringsDoNotSplitEvents) {
  auto r = run(R"([{"id":1,"s":"]},{\"[\\"},{"id":2,"s":"\\"}])");
  ASSERT_EQ(r.valid.size(), 2u) << (r.rejected.empty() ? "" : r.rejected[0].message);
  EXPECT_EQ(schema::payload_json(r.valid[0].payload), R"({"id":1,"s":"]},{\"[\\"})");
  EXPECT_EQ(schema::payload_json(r.valid[1].payload), R"({"id":2,"s":"\\"})");
}

TEST(BodyTest, UnreadableBodiesAreRefusedWhole) {
  struct Case {
    const char* body;
    const char* says;
  };
  for (const Case& c :
       {Case{"", "no events"}, Case{"  \n ", "no events"}, Case{"[]", "no events"},
        Case{"{\"events\":[]}", "no events"}, Case{"42", "neither an array nor an object"},
        Case{"\"x\"", "neither an array nor an object"},
        Case{"{\"id\":1}", "expected the member \"events\""},
        Case{"{\"events\":{}}", "\"events\" must be an array"},
        Case{"{\"events\":[{\"id\":1}],\"more\":1}", "expected '}'"},
        Case{"[{\"id\":1}", "not closed"}, Case{"[{\"id\":1},", "expected an event"},
        Case{"[{\"id\":1},]", "expected an event"}, Case{"[{\"id\":1} {\"id\":2}]", "expected ','"},
        Case{"[{\"id\":1}] x", "unexpected data"}, Case{"[{\"s\":\"abc}]", "inside a string"},
        Case{"[{\"id\":1]", "not closed"}}) {
    auto e = expect_error([&] { run(c.body); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_input) << c.body;
    EXPECT_THAT(std::string(e.message()), HasSubstr(c.says)) << c.body;
  }
  auto e = expect_error([] { run("\n\n  \n", BodyFormat::ndjson); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
}

TEST(BodyTest, ElementsThatAreNotObjectsAreRefusedAlone) {
  auto r = run(R"([1, {"id":1}, "x", [], null, {"id":2}])");
  EXPECT_EQ(r.total, 6u);
  ASSERT_EQ(r.valid.size(), 2u);
  EXPECT_EQ(r.valid[0].index, 1u);
  EXPECT_EQ(r.valid[1].index, 5u);
  ASSERT_EQ(r.rejected.size(), 4u);
  for (auto i : {0u, 2u, 3u, 4u}) expect_rejected(r, i, "not_an_object");
  EXPECT_EQ(r.rejected[0].field, "");
}

TEST(BodyTest, BadSyntaxInsideOneElementRefusesOnlyThatElement) {
  auto r = run(R"([{"id":tru}, {"id":1}, {"id":1,}, {"id" 2}])");
  EXPECT_EQ(r.total, 4u);
  ASSERT_EQ(r.valid.size(), 1u);
  EXPECT_EQ(r.valid[0].index, 1u);
  expect_rejected(r, 0, "invalid_json");
  expect_rejected(r, 2, "invalid_json");
  expect_rejected(r, 3, "invalid_json");
}

TEST(BodyTest, NdjsonBadLineInTheMiddle) {
  auto r = run("{\"id\":1}\r\n\n{\"id\":\n  \n{\"id\":3}\n{\"id\":4} {\"id\":5}\n[1]\n",
               BodyFormat::ndjson);
  // Blank lines are not events: indexes count event lines only.
  EXPECT_EQ(r.total, 5u);
  ASSERT_EQ(r.valid.size(), 2u);
  EXPECT_EQ(r.valid[0].index, 0u);
  EXPECT_EQ(schema::payload_json(r.valid[0].payload), R"({"id":1})");
  EXPECT_EQ(r.valid[1].index, 2u);
  EXPECT_EQ(schema::payload_json(r.valid[1].payload), R"({"id":3})");
  ASSERT_EQ(r.rejected.size(), 3u);
  EXPECT_EQ(r.rejected[0].index, 1u);
  EXPECT_EQ(r.rejected[0].code, "invalid_json");
  EXPECT_THAT(r.rejected[0].message, HasSubstr("line 3"));
  EXPECT_EQ(r.rejected[1].index, 3u);
  EXPECT_EQ(r.rejected[1].code, "invalid_json");  // two objects on one line
  EXPECT_THAT(r.rejected[1].message, HasSubstr("line 6"));
  EXPECT_EQ(r.rejected[2].index, 4u);
  EXPECT_EQ(r.rejected[2].code, "not_an_object");
}

TEST(BodyTest, MaxEventsRefusesTheWholeBody) {
  ValidatorOptions two;
  two.max_events = 2;
  EXPECT_EQ(run(R"([{"id":1},{"id":2}])", BodyFormat::json, two).valid.size(), 2u);
  auto e = expect_error([&] { run(R"([{"id":1},{"id":2},{"id":3}])", BodyFormat::json, two); });
  EXPECT_EQ(e.code(), ErrorCode::payload_too_large);
  EXPECT_THAT(std::string(e.message()), HasSubstr("more than 2 events"));
  EXPECT_EQ(run("{\"id\":1}\n\n{\"id\":2}\n", BodyFormat::ndjson, two).valid.size(), 2u);
  e = expect_error([&] { run("{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n", BodyFormat::ndjson, two); });
  EXPECT_EQ(e.code(), ErrorCode::payload_too_large);
  // Bad events count too: the limit is on what was sent.
  e = expect_error([&] { run("[1,2,3]", BodyFormat::json, two); });
  EXPECT_EQ(e.code(), ErrorCode::payload_too_large);
}

TEST(GunzipTest, RoundTrip) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += "{\"id\":" + std::to_string(i) + ",\"s\":\"événement\"}\n";
  EXPECT_EQ(gunzip(gzip(body), body.size()), body);
  auto r = run(gunzip(gzip(body), 10 * body.size()), BodyFormat::ndjson);
  EXPECT_EQ(r.valid.size(), 5000u);
}

TEST(GunzipTest, ConcatenatedMembersAreOneBody) {
  EXPECT_EQ(gunzip(gzip("[{\"id\":1},") + gzip("{\"id\":2}]"), 1000), "[{\"id\":1},{\"id\":2}]");
}

TEST(GunzipTest, LimitIsExact) {
  std::string body(1000, 'x');
  auto packed = gzip(body);
  EXPECT_EQ(gunzip(packed, 1000).size(), 1000u);
  auto e = expect_error([&] { gunzip(packed, 999); });
  EXPECT_EQ(e.code(), ErrorCode::payload_too_large);
}

TEST(GunzipTest, BombIsRefusedWithoutInflatingIt) {
  // 64 MiB of zeros packs into about 64 KiB.
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string zeros(1 << 20, '\0');
  std::string packed;
  char buf[1 << 16];
  for (int i = 0; i < 64; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(zeros.size());
    int flush = i == 63 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, flush);
      packed.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  ASSERT_LT(packed.size(), 200u * 1024);
  auto e = expect_error([&] { gunzip(packed, 1 << 20); });
  EXPECT_EQ(e.code(), ErrorCode::payload_too_large);
  EXPECT_THAT(std::string(e.message()), HasSubstr("1048576"));
}

TEST(GunzipTest, CorruptOrTruncatedDataIsInvalidInput) {
  auto packed = gzip("[{\"id\":1}]");
  for (std::string bad :
       {std::string(), std::string("not gzip at all"), packed.substr(0, packed.size() / 2),
        packed.substr(0, packed.size() - 4), packed + "trailing junk"}) {
    auto e = expect_error([&] { gunzip(bad, 1 << 20); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_input) << bad.size();
  }
  std::string flipped = packed;
  flipped[flipped.size() - 6] ^= 0x55;  // inside the CRC: data no longer matches
  EXPECT_EQ(expect_error([&] { gunzip(flipped, 1 << 20); }).code(), ErrorCode::invalid_input);
}

}  // namespace
}  // namespace duckmesh::ingest
