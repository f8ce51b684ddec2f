// ServerError: a non-2xx answer from a DuckMesh server, decoded from the one
// error body shape every route uses:
//   {"error": {"code", "message", "details", "request_id"}}
// A body of another shape (a proxy's HTML page, say) still yields an error
// whose code is "http_<status>" and whose message is the start of the body,
// so nothing the server said is lost.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "client/http_client.hpp"

namespace duckmesh::client {

class ServerError : public std::runtime_error {
 public:
  static ServerError from_response(const HttpResponse& response);

  unsigned status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  const boost::json::object& details() const { return details_; }
  const std::string& request_id() const { return request_id_; }

 private:
  ServerError(unsigned status, std::string code, std::string message, boost::json::object details,
              std::string request_id);

  unsigned status_;
  std::string code_;
  std::string message_;
  boost::json::object details_;
  std::string request_id_;
};

// Several lines for a person: "error: <message>", then the status and code,
// the details other than those named in `skip_details` (as compact JSON), and
// the request id to quote when asking the server's operators. Ends with a
// newline.
std::string describe(const ServerError& error,
                     std::initializer_list<std::string_view> skip_details = {});

// A 2xx answer that is not what the DuckMesh API promises (not JSON, a
// member missing): the address points at something that is not a DuckMesh
// server, or at one of an incompatible version.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The body of a 2xx response as a JSON object, or ProtocolError naming
// `what` (such as "the table description").
boost::json::object parse_json_object(const HttpResponse& response, std::string_view what);

}  // namespace duckmesh::client
