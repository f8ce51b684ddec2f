// The event tape checked against Boost.JSON's own DOM: the same documents
// are accepted and read back as the same values (strings unescaped and
// joined from their parts, numbers as written, nesting), a mutated document
// is refused whenever Boost.JSON refuses it and otherwise only for a
// repeated key, and each refusal names its rule and the event's field.
#include "ingest/validation_tape.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace duckmesh::ingest {
namespace {

// The tape's value at `i` rebuilt as a boost::json::value.
boost::json::value rebuild(const EventTape& tape, std::uint32_t i) {
  const Node& n = tape[i];
  switch (n.kind) {
    case NodeKind::object: {
      boost::json::object o;
      for (std::uint32_t k = i + 1; k < n.end; k = tape[k + 1].end) {
        o[tape.text(tape[k])] = rebuild(tape, k + 1);
      }
      return o;
    }
    case NodeKind::array: {
      boost::json::array a;
      for (std::uint32_t k = i + 1; k < n.end; k = tape[k].end) a.push_back(rebuild(tape, k));
      return a;
    }
    case NodeKind::key:
    case NodeKind::string: return boost::json::string(tape.text(n));
    case NodeKind::number: return boost::json::parse(tape.text(n));
    case NodeKind::true_: return true;
    case NodeKind::false_: return false;
    case NodeKind::null: return nullptr;
  }
  return nullptr;
}

const std::vector<std::string>& documents() {
  static const std::vector<std::string> docs = {
      R"({})",
      R"( { "a" : 1 , "b" : [ ] , "c" : { } } )",
      R"({"s":"plain","e":"\"\\\/\b\f\n\r\t","u":"\u00e9\u20ac\ud83d\ude00\u0000x"})",
      "{\"raw\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\",\"k\xC3\xA9y\":true}",
      R"({"n":[0,-0,1,-1,12.5,-0.001,1e5,1E+5,2e-3,123456789012345678901234567890,1.5e308]})",
      R"({"deep":[[[[{"a":[{"b":null}]}]]]],"t":true,"f":false,"z":null})",
      R"({"long":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"bbbbbbbbbb"})",
  };
  return docs;
}

// `doc` with `edits` random bytes of `alphabet` replaced, inserted or erased.
std::string mutated(std::string text, int edits, const std::string& alphabet,
                    std::mt19937& random) {
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t at = random() % text.size();
    const char c = alphabet[random() % alphabet.size()];
    switch (random() % 3) {
      case 0: text[at] = c; break;
      case 1: text.insert(at, 1, c); break;
      default: text.erase(at, 1); break;
    }
  }
  return text;
}

TEST(EventTapeTest, ReadsWhatBoostJsonReadsWithTheSameValues) {
  EventTape tape;
  for (const auto& doc : documents()) {
    TapeFailure failure;
    ASSERT_TRUE(tape.parse(doc, failure)) << doc << ": " << failure.message;
    EXPECT_EQ(rebuild(tape, 0), boost::json::parse(doc)) << doc;
    EXPECT_EQ(tape[0].end, tape.size()) << doc;
  }
}

TEST(EventTapeTest, RefusesEveryMutationBoostJsonRefuses) {
  // Bytes that matter to JSON syntax, and some that break UTF-8.
  const std::string alphabet = "{}[]\":,\\/ -+.0123456789eEtrufalsn\x01\x1f\x7f\x80\xC3\xED\xFF";
  std::mt19937 random(20261207);
  EventTape tape;
  std::size_t accepted = 0, refused = 0;
  for (const auto& doc : documents()) {
    for (int round = 0; round < 3000; ++round) {
      const std::string text = mutated(doc, 1 + static_cast<int>(random() % 3), alphabet, random);
      TapeFailure failure;
      const bool ours = tape.parse(text, failure);
      boost::json::error_code ec;
      boost::json::parse_options options;
      options.max_depth = EventTape::kMaxDepth;
      auto theirs = boost::json::parse(text, ec, {}, options);
      if (ours) {
        ++accepted;
        ASSERT_FALSE(ec) << "accepted what Boost.JSON refuses (" << ec.message() << "): " << text;
        ASSERT_EQ(rebuild(tape, 0), theirs) << text;
      } else {
        ++refused;
        ASSERT_NE(std::string(failure.code), "") << text;
        // Where Boost.JSON reads it, the refusal is one of the tape's own
        // rules: a repeated key.
        if (!ec) {
          EXPECT_EQ(std::string(failure.code), "duplicate_key") << text;
        }
      }
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(accepted, 500u);
  EXPECT_GT(refused, 5000u);
}

// The fast reading against the exhaustive one on the same mutated
// documents: the same verdict, and where both accept, node for node the same
// tape with the same texts (numbers exactly as written).
TEST(EventTapeTest, FastAndExhaustiveReadingsFillTheSameTape) {
  const std::string alphabet =
      "{}[]\":,\\/ -+.0123456789eEtrufalsnu\x01\x1f\x7f\x80\xC3\xA9\xED\xF0\x9F\xFF";
  std::vector<std::string> docs = documents();
  docs.push_back(R"({"a":"x\u0041\n\u00e9\u20acy","b\"":[1.0E-7,-0.5e+06,{"c":"\/"}]})");
  docs.push_back("{\"caf\xC3\xA9\":\"\xE2\x82\xAC\\u00e9\xF0\x9F\x98\x80\",\"n\":1e-999999}");
  std::mt19937 random(7);
  EventTape fast, exhaustive;
  std::size_t compared = 0;
  for (const auto& doc : docs) {
    for (int round = 0; round < 2000; ++round) {
      const int edits = round == 0 ? 0 : 1 + static_cast<int>(random() % 3);
      const std::string text = mutated(doc, edits, alphabet, random);
      TapeFailure f1, f2;
      const bool a = fast.parse(text, f1);
      const bool b = exhaustive.parse_exhaustively(text, f2);
      ASSERT_EQ(a, b) << text;
      if (!a) {
        EXPECT_STREQ(f1.code, f2.code) << text;
        EXPECT_EQ(f1.field, f2.field) << text;
        continue;
      }
      ++compared;
      ASSERT_EQ(fast.size(), exhaustive.size()) << text;
      for (std::uint32_t i = 0; i < fast.size(); ++i) {
        ASSERT_EQ(fast[i].kind, exhaustive[i].kind) << text << " node " << i;
        ASSERT_EQ(fast[i].end, exhaustive[i].end) << text << " node " << i;
        const auto kind = fast[i].kind;
        if (kind == NodeKind::key || kind == NodeKind::string || kind == NodeKind::number) {
          ASSERT_EQ(fast.text(fast[i]), exhaustive.text(exhaustive[i])) << text << " node " << i;
        } else {
          ASSERT_EQ(fast[i].size, exhaustive[i].size) << text << " node " << i;
        }
      }
    }
  }
  EXPECT_GT(compared, 1000u);
}

TEST(EventTapeTest, SaysWhichRuleAndWhichFieldStoppedIt) {
  EventTape tape;
  auto failure_of = [&](const std::string& text) {
    TapeFailure failure;
    EXPECT_FALSE(tape.parse(text, failure)) << text;
    return failure;
  };
  auto f = failure_of(R"({"a":1,"b":{"x":1,"x":2}})");
  EXPECT_STREQ(f.code, "duplicate_key");
  EXPECT_EQ(f.field, "b");
  f = failure_of(R"({"a":1,"a":2})");
  EXPECT_STREQ(f.code, "duplicate_key");
  EXPECT_EQ(f.field, "a");
  f = failure_of(R"({"a":1,"b":"\ud800x"})");
  EXPECT_STREQ(f.code, "invalid_utf8");
  EXPECT_EQ(f.field, "b");
  f = failure_of("{\"a\":\xFF}");
  EXPECT_STREQ(f.code, "invalid_utf8");
  f = failure_of(R"({"a":1e99999999999})");
  EXPECT_STREQ(f.code, "out_of_range");
  EXPECT_EQ(f.field, "a");
  f = failure_of("{\"a\":" + std::string(33, '[') + std::string(33, ']') + "}");
  EXPECT_STREQ(f.code, "too_deep");
  EXPECT_EQ(f.field, "a");
  f = failure_of(R"({"a":1} {"b":2})");
  EXPECT_STREQ(f.code, "invalid_json");
  EXPECT_EQ(f.field, "");
  f = failure_of(R"({"a":[1,2,}})");
  EXPECT_STREQ(f.code, "invalid_json");
  EXPECT_EQ(f.field, "a");
  EXPECT_NE(f.message.find("not valid JSON"), std::string::npos) << f.message;
}

}  // namespace
}  // namespace duckmesh::ingest
