#include "client/server_error.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace duckmesh::client {
namespace {

std::string text_member(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

// The first line of a non-JSON body, clipped, so an HTML error page does not
// flood the terminal.
std::string body_excerpt(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  constexpr std::size_t kMax = 200;
  if (line.size() > kMax) line = line.substr(0, kMax) + "...";
  return line.empty() ? "(empty body)" : line;
}

}  // namespace

ServerError::ServerError(unsigned status, std::string code, std::string message,
                         boost::json::object details, std::string request_id)
    : std::runtime_error(message),
      status_(status),
      code_(std::move(code)),
      message_(std::move(message)),
      details_(std::move(details)),
      request_id_(std::move(request_id)) {}

ServerError ServerError::from_response(const HttpResponse& response) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(response.body, ec);
  std::string request_id = response.header("x-request-id");
  if (!ec && parsed.is_object()) {
    const auto& root = parsed.as_object();
    auto it = root.find("error");
    if (it != root.end() && it->value().is_object()) {
      const auto& e = it->value().as_object();
      boost::json::object details;
      if (auto d = e.find("details"); d != e.end() && d->value().is_object()) {
        details = d->value().as_object();
      }
      std::string id = text_member(e, "request_id");
      return ServerError(response.status, text_member(e, "code"), text_member(e, "message"),
                         std::move(details), id.empty() ? request_id : id);
    }
  }
  return ServerError(response.status, "http_" + std::to_string(response.status),
                     body_excerpt(response.body), {}, request_id);
}

std::string describe(const ServerError& error,
                     std::initializer_list<std::string_view> skip_details) {
  std::string out = "error: " + (error.message().empty() ? "(no message)" : error.message()) + "\n";
  out += "  status: HTTP " + std::to_string(error.status()) +
         (error.code().empty() ? "" : " " + error.code()) + "\n";
  boost::json::object details;
  for (const auto& member : error.details()) {
    if (std::find(skip_details.begin(), skip_details.end(), member.key()) == skip_details.end()) {
      details.emplace(member.key(), member.value());
    }
  }
  if (!details.empty()) out += "  details: " + boost::json::serialize(details) + "\n";
  if (!error.request_id().empty()) out += "  request id: " + error.request_id() + "\n";
  return out;
}

boost::json::object parse_json_object(const HttpResponse& response, std::string_view what) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(response.body, ec);
  if (ec || !parsed.is_object()) {
    throw ProtocolError(
        "the server's answer for " + std::string(what) +
        " is not a JSON object (is --server a DuckMesh server?): " + body_excerpt(response.body));
  }
  return std::move(parsed.as_object());
}

}  // namespace duckmesh::client
