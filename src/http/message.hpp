// Request and Response as handlers see them: the parsed HTTP message plus
// what the server learned about it (path parameters, query, request id).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <boost/optional/optional.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/identity.hpp"
#include "common/error.hpp"

namespace duckmesh::http {

using Verb = boost::beast::http::verb;

// A request body read into a std::string, as Beast's string_body, except
// that the parser's bytes are appended to the string (reserved from
// Content-Length) instead of copied into room zero-filled first: an ingest
// body of a few hundred KB was written twice.
struct RequestBody : boost::beast::http::string_body {
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec) {
      ec = {};
      if (!length) return;
      if (*length > body_.max_size()) {
        ec = boost::beast::http::error::buffer_overflow;
        return;
      }
      body_.reserve(static_cast<std::size_t>(*length));
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      const std::size_t extra = boost::beast::buffer_bytes(buffers);
      if (extra > body_.max_size() - body_.size()) {
        ec = boost::beast::http::error::buffer_overflow;
        return 0;
      }
      ec = {};
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        const boost::asio::const_buffer piece = *it;
        body_.append(static_cast<const char*>(piece.data()), piece.size());
      }
      return extra;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

using RawRequest = boost::beast::http::request<RequestBody>;

struct Request {
  RawRequest raw;
  std::string path;                                // decoded path, no query string
  std::multimap<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> path_params;  // filled by the router
  std::string route;                               // matched route pattern ("" if none)
  std::string request_id;
  std::string remote_address;
  std::chrono::steady_clock::time_point received_at = std::chrono::steady_clock::now();
  // Set by the authorize middleware: who the caller is (absent on a public
  // route), and the product the route acts on ("" when none, e.g. platform
  // routes or a list). A later middleware (rate limits) keys on these.
  std::optional<auth::Identity> identity;
  std::string scope_product;
  // The audit action of the matched route ("" when not audited).
  std::string audit_action;

  Verb method() const { return raw.method(); }
  const std::string& body() const { return raw.body(); }
  // Header value, or "" when absent.
  std::string_view header(std::string_view name) const;
  // First query parameter `name`, or nullopt.
  std::optional<std::string> query_param(const std::string& name) const;
  // Query parameter `name` as a whole number in [min, max], or `fallback`
  // when absent; invalid_input naming the parameter otherwise.
  std::int64_t int_query_param(const std::string& name, std::int64_t fallback, std::int64_t min,
                               std::int64_t max) const;
  // Query parameter `name` as true/false (also 1/0), or `fallback`.
  bool bool_query_param(const std::string& name, bool fallback) const;
  // Path parameter bound by the router; throws internal if the route has none.
  const std::string& path_param(const std::string& name) const;
  // The body parsed as JSON; invalid_input naming the position on bad JSON or
  // an empty body.
  boost::json::value json_body() const;
};

// Writes one chunk of a streamed body to the client; blocks until sent.
using ChunkWriter = std::function<void(std::string_view)>;

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is produced by this function on a worker thread and
  // sent with chunked transfer encoding as it is written, instead of `body`.
  // If it throws before writing anything, the client gets the error as a
  // normal error response; after the first chunk, the connection is cut so
  // the client sees an incomplete response rather than a wrong one.
  std::function<void(const ChunkWriter&)> stream;

  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  static Response json(unsigned status, const boost::json::value& body);
  static Response text(unsigned status, std::string body, std::string content_type);
  // The one place an Error becomes an HTTP response.
  static Response from_error(const Error& error, std::string_view request_id);
};

// Fills request.path and request.query from the raw target (origin form:
// "/path?query"), percent-decoded. invalid_input on a malformed target.
void parse_target(Request& request);

}  // namespace duckmesh::http
