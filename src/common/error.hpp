// The one error type of the service.
//
// Every failure a caller can see travels as a duckmesh::Error carrying a code
// from a closed set, a human message that says what was wrong and what is
// allowed, and optional structured details (which field, which limit...).
// The mapping from code to HTTP status lives in exactly one place:
// http_status() below; the JSON body shape in error_body().
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace duckmesh {

enum class ErrorCode {
  invalid_input,       // 400 / 422: the request is malformed or breaks a rule
  not_found,           // 404
  method_not_allowed,  // 405
  conflict,            // 409
  unauthorized,        // 401
  forbidden,           // 403
  payload_too_large,   // 413
  unprocessable,       // 422: well-formed but semantically invalid (validation)
  rate_limited,        // 429
  quota_exceeded,      // 429: a product's daily or storage quota is used up
  timeout,             // 408
  unavailable,         // 503
  internal,            // 500
};

// Stable wire name of a code ("invalid_input", ...).
std::string_view to_string(ErrorCode code);

// HTTP status for a code. The only place this mapping exists.
unsigned http_status(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, boost::json::object details = {})
      : std::runtime_error(std::move(message)), code_(code), details_(std::move(details)) {}

  ErrorCode code() const noexcept { return code_; }
  std::string_view message() const noexcept { return what(); }
  const boost::json::object& details() const noexcept { return details_; }

 private:
  ErrorCode code_;
  boost::json::object details_;
};

// {"error":{"code","message","details","request_id"}}
boost::json::object error_body(const Error& error, std::string_view request_id);

}  // namespace duckmesh
