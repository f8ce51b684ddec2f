// The request body reader: bytes arriving in pieces, with a Content-Length
// or chunked, end up in the body whole and in order, and the parser's body
// limit still refuses a body too large.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>

#include "http/message.hpp"

namespace duckmesh::http {
namespace {

namespace bhttp = boost::beast::http;

// Feeds `wire` to a parser `step` bytes at a time; returns the error, if any.
boost::beast::error_code parse(bhttp::request_parser<RequestBody>& parser, const std::string& wire,
                               std::size_t step) {
  parser.eager(true);
  boost::beast::error_code ec;
  std::string pending;
  for (std::size_t at = 0; at < wire.size() && !parser.is_done(); at += step) {
    pending += wire.substr(at, step);
    // The parser takes what it can of what has arrived, a part at a time.
    while (!pending.empty() && !parser.is_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return ec;
      if (used == 0) break;
      pending.erase(0, used);
    }
  }
  return ec;
}

std::string body_of(std::size_t n) {
  std::string body;
  for (std::size_t i = 0; i < n; ++i) body += static_cast<char>('a' + i % 26);
  return body;
}

TEST(RequestBodyTest, ABodyInPiecesIsReadWholeAndInOrder) {
  const std::string body = body_of(100'000);
  const std::string wire =
      "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
      body;
  for (std::size_t step : {1u, 7u, 4096u, 1000000u}) {
    bhttp::request_parser<RequestBody> parser;
    parser.body_limit(1'000'000);
    ASSERT_FALSE(parse(parser, wire, step)) << step;
    ASSERT_TRUE(parser.is_done()) << step;
    EXPECT_EQ(parser.get().body(), body) << step;
  }
}

TEST(RequestBodyTest, AChunkedBodyIsJoined) {
  const std::string wire =
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
  bhttp::request_parser<RequestBody> parser;
  auto error = parse(parser, wire, wire.size());  // three chunks: three pieces
  ASSERT_FALSE(error) << error.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "hello world");
}

TEST(RequestBodyTest, TheBodyLimitStillRefusesALargerBody) {
  const std::string body = body_of(2000);
  const std::string wire =
      "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
      body;
  bhttp::request_parser<RequestBody> parser;
  parser.body_limit(1000);
  EXPECT_EQ(parse(parser, wire, 512), bhttp::error::body_limit);
}

}  // namespace
}  // namespace duckmesh::http
