#include "common/error.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <set>

namespace duckmesh {
namespace {

TEST(Error, EveryCodeHasADistinctWireNameAndAnErrorStatus) {
  const ErrorCode all[] = {
      ErrorCode::invalid_input,     ErrorCode::not_found,     ErrorCode::method_not_allowed,
      ErrorCode::conflict,          ErrorCode::unauthorized,  ErrorCode::forbidden,
      ErrorCode::payload_too_large, ErrorCode::unprocessable, ErrorCode::rate_limited,
      ErrorCode::quota_exceeded,    ErrorCode::timeout,       ErrorCode::unavailable,
      ErrorCode::internal};
  std::set<std::string_view> names;
  for (ErrorCode c : all) {
    EXPECT_TRUE(names.insert(to_string(c)).second) << to_string(c);
    EXPECT_GE(http_status(c), 400u);
    EXPECT_LT(http_status(c), 600u);
  }
}

TEST(Error, MapsCodesToTheDocumentedStatuses) {
  EXPECT_EQ(http_status(ErrorCode::invalid_input), 400u);
  EXPECT_EQ(http_status(ErrorCode::not_found), 404u);
  EXPECT_EQ(http_status(ErrorCode::method_not_allowed), 405u);
  EXPECT_EQ(http_status(ErrorCode::payload_too_large), 413u);
  EXPECT_EQ(http_status(ErrorCode::rate_limited), 429u);
  EXPECT_EQ(http_status(ErrorCode::timeout), 408u);
  EXPECT_EQ(http_status(ErrorCode::unavailable), 503u);
  EXPECT_EQ(http_status(ErrorCode::internal), 500u);
}

TEST(Error, BodyHasCodeMessageDetailsAndRequestId) {
  Error e(ErrorCode::invalid_input, "field 'x' must be an integer", {{"field", "x"}});
  auto body = error_body(e, "req-1");
  const auto& inner = body.at("error").as_object();
  EXPECT_EQ(inner.at("code").as_string(), "invalid_input");
  EXPECT_EQ(inner.at("message").as_string(), "field 'x' must be an integer");
  EXPECT_EQ(inner.at("details").as_object().at("field").as_string(), "x");
  EXPECT_EQ(inner.at("request_id").as_string(), "req-1");
}

}  // namespace
}  // namespace duckmesh
