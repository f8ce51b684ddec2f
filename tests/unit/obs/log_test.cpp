#include "obs/log.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <ctime>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace duckmesh::log {
namespace {

// The string a JSON value holds, or a marker that makes a comparison fail.
std::string text(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string())
                       : "<not a string: " + boost::json::serialize(v) + ">";
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { init_with_stream(Level::trace, out_); }
  // The stream dies with the fixture; later writes must not reach it.
  void TearDown() override { init(Level::info); }

  std::vector<std::string> raw_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Every line parsed; a line that is not a JSON object fails the test.
  std::vector<boost::json::object> lines() const {
    std::vector<boost::json::object> parsed;
    for (const auto& line : raw_lines()) {
      boost::system::error_code ec;
      auto value = boost::json::parse(line, ec);
      if (ec || !value.is_object()) {
        ADD_FAILURE() << "not a JSON object: " << line;
        continue;
      }
      parsed.push_back(value.as_object());
    }
    return parsed;
  }

  std::ostringstream out_;
};

TEST(LogLevel, ParsesNamesInAnyCase) {
  EXPECT_EQ(parse_level("trace"), Level::trace);
  EXPECT_EQ(parse_level("DEBUG"), Level::debug);
  EXPECT_EQ(parse_level("Info"), Level::info);
  EXPECT_EQ(parse_level("warn"), Level::warn);
  EXPECT_EQ(parse_level("WARNING"), Level::warn);
  EXPECT_EQ(parse_level("error"), Level::error);
  EXPECT_EQ(parse_level(""), std::nullopt);
  EXPECT_EQ(parse_level("fatal"), std::nullopt);
  EXPECT_EQ(parse_level("info "), std::nullopt);
}

TEST(LogLevel, NamesRoundTrip) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error}) {
    EXPECT_EQ(parse_level(to_string(l)), l);
  }
  EXPECT_EQ(to_string(Level::warn), "warn");
}

TEST_F(LogTest, LineHasTimeLevelMessageThenFieldsInOrder) {
  info("listening", {{"address", "0.0.0.0:8080"}, {"threads", 4}, {"tls", false}});
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 1u);
  const auto& line = parsed[0];
  std::vector<std::string> keys;
  for (const auto& kv : line) keys.emplace_back(kv.key());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"time", "level", "message", "address", "threads", "tls"}));
  EXPECT_EQ(line.at("level"), "info");
  EXPECT_EQ(line.at("message"), "listening");
  EXPECT_EQ(line.at("address"), "0.0.0.0:8080");
  EXPECT_EQ(line.at("threads"), 4);
  EXPECT_EQ(line.at("tls"), false);
}

TEST_F(LogTest, TimeIsUtcWithMicrosecondsAndCurrent) {
  warn("tick");
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 1u);
  std::string time(parsed[0].at("time").as_string());
  ASSERT_TRUE(std::regex_match(time, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)")))
      << time;
  std::tm tm{};
  ASSERT_NE(::strptime(time.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr);
  auto logged = ::timegm(&tm);
  auto now = std::time(nullptr);
  EXPECT_LE(std::abs(static_cast<long>(now - logged)), 2) << time;
}

TEST_F(LogTest, EachLevelNamedInItsLine) {
  trace("t");
  debug("d");
  info("i");
  warn("w");
  error("e");
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 5u);
  EXPECT_EQ(parsed[0].at("level"), "trace");
  EXPECT_EQ(parsed[1].at("level"), "debug");
  EXPECT_EQ(parsed[2].at("level"), "info");
  EXPECT_EQ(parsed[3].at("level"), "warn");
  EXPECT_EQ(parsed[4].at("level"), "error");
}

TEST_F(LogTest, AwkwardStringsStayOnOneLineAndRoundTrip) {
  const std::string message = "quote \" backslash \\ newline \n tab \t cr \r nul-free \x01 é";
  info(message, {{"sql", "SELECT '\n'"}, {"nested", {{"a", "\""}}}});
  auto raw = raw_lines();
  ASSERT_EQ(raw.size(), 1u);
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(text(parsed[0].at("message")), message);
  EXPECT_EQ(parsed[0].at("sql"), "SELECT '\n'");
  EXPECT_EQ(parsed[0].at("nested").at("a"), "\"");
}

TEST_F(LogTest, FieldsCannotHideCoreKeys) {
  info("real", {{"message", "fake"}, {"level", "error"}, {"request_id", "spoof"}});
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].at("message"), "real");
  EXPECT_EQ(parsed[0].at("level"), "info");
  EXPECT_FALSE(parsed[0].contains("request_id"));
  EXPECT_EQ(parsed[0].at("field_message"), "fake");
  EXPECT_EQ(parsed[0].at("field_level"), "error");
  EXPECT_EQ(parsed[0].at("field_request_id"), "spoof");
}

TEST_F(LogTest, LinesBelowTheLevelAreDropped) {
  init_with_stream(Level::warn, out_);
  EXPECT_EQ(level(), Level::warn);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::warn));
  trace("no");
  debug("no");
  info("no");
  warn("yes-warn");
  error("yes-error");
  write(Level::info, "no");
  write(Level::error, "yes-write");
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[0].at("message"), "yes-warn");
  EXPECT_EQ(parsed[1].at("message"), "yes-error");
  EXPECT_EQ(parsed[2].at("message"), "yes-write");
}

TEST_F(LogTest, SetLevelTakesEffectAcrossThreads) {
  set_level(Level::error);
  info("dropped");
  std::thread([] { set_level(Level::debug); }).join();
  EXPECT_EQ(level(), Level::debug);
  std::thread([] {
    debug("from another thread");
    trace("still dropped");
  }).join();
  info("kept");
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0].at("message"), "from another thread");
  EXPECT_EQ(parsed[1].at("message"), "kept");
}

TEST_F(LogTest, RequestScopesNestAndRestore) {
  EXPECT_EQ(current_request_id(), "");
  info("outside");
  {
    RequestScope outer("req-outer");
    EXPECT_EQ(current_request_id(), "req-outer");
    info("in outer");
    {
      RequestScope inner("req-inner");
      EXPECT_EQ(current_request_id(), "req-inner");
      info("in inner");
    }
    EXPECT_EQ(current_request_id(), "req-outer");
    info("back in outer");
  }
  EXPECT_EQ(current_request_id(), "");
  info("outside again");

  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 5u);
  EXPECT_FALSE(parsed[0].contains("request_id"));
  EXPECT_EQ(parsed[1].at("request_id"), "req-outer");
  EXPECT_EQ(parsed[2].at("request_id"), "req-inner");
  EXPECT_EQ(parsed[3].at("request_id"), "req-outer");
  EXPECT_FALSE(parsed[4].contains("request_id"));

  std::vector<std::string> keys;
  for (const auto& kv : parsed[1]) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"time", "level", "message", "request_id"}));
}

TEST_F(LogTest, RequestIdIsPerThread) {
  RequestScope scope("main-thread");
  std::string seen_elsewhere = "unset";
  std::thread([&] {
    seen_elsewhere = std::string(current_request_id());
    info("worker");
  }).join();
  EXPECT_EQ(seen_elsewhere, "");
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_FALSE(parsed[0].contains("request_id"));
}

TEST_F(LogTest, ConcurrentWritersNeverInterleave) {
  constexpr int kThreads = 8;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      RequestScope scope("thread-" + std::to_string(t));
      for (int i = 0; i < kLines; ++i) {
        info("line", {{"thread", t}, {"i", i}, {"padding", std::string(200, 'x')}});
      }
    });
  }
  for (auto& th : threads) th.join();
  auto parsed = lines();
  ASSERT_EQ(parsed.size(), static_cast<std::size_t>(kThreads * kLines));
  std::vector<int> per_thread(kThreads, 0);
  for (const auto& line : parsed) {
    auto t = line.at("thread").as_int64();
    EXPECT_EQ(text(line.at("request_id")), "thread-" + std::to_string(t));
    ++per_thread[static_cast<std::size_t>(t)];
  }
  for (int count : per_thread) EXPECT_EQ(count, kLines);
}

}  // namespace
}  // namespace duckmesh::log
