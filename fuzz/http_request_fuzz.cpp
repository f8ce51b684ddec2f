// Fuzzes what the server does with the bytes of one request before a handler
// runs: the HTTP/1.1 parser with the server's limits, target and query
// decoding, routing with path parameters, and the typed accessors handlers
// use (query numbers and booleans, headers, the JSON body).
//
// Every outcome must be a parser error or a duckmesh::Error; anything else
// (a crash, a sanitizer report, another exception type) is a finding.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace {

using duckmesh::Error;
namespace bhttp = boost::beast::http;
namespace dh = duckmesh::http;

// A route table shaped like the service's: literals beside parameters,
// several parameters per path, a catch-all method mix.
const dh::Router& router() {
  static const std::unique_ptr<dh::Router> instance = [] {
    auto r = std::make_unique<dh::Router>();
    auto echo = [](dh::Request& request) {
      for (const auto& [name, value] : request.path_params) (void)request.path_param(name);
      (void)request.int_query_param("limit", 100, 1, 10000);
      (void)request.bool_query_param("wait_for_visibility", false);
      (void)request.query_param("cursor");
      (void)request.header("Authorization");
      if (!request.body().empty()) (void)request.json_body();
      return dh::Response::text(200, request.path, "text/plain");
    };
    r->add(dh::Verb::get, "/v1/products", echo);
    r->add(dh::Verb::post, "/v1/products", echo);
    r->add(dh::Verb::get, "/v1/products/search", echo);
    r->add(dh::Verb::get, "/v1/products/{product}", echo);
    r->add(dh::Verb::get, "/v1/products/{product}/tables/{table}", echo);
    r->add(dh::Verb::delete_, "/v1/products/{product}/tables/{table}", echo);
    r->add(dh::Verb::post, "/v1/products/{product}/tables/{table}/events", echo);
    r->add(dh::Verb::get, "/v1/products/{product}/visibility/{token}", echo);
    r->add(dh::Verb::post, "/v1/products/{product}/query", echo);
    r->add(dh::Verb::get, "/ops/{entity}/{id}", echo);
    r->add(dh::Verb::get, "/monitoring/health", echo);
    return r;
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dh::ServerOptions limits;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(limits.body_limit);
  parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
  parser.eager(true);

  boost::beast::error_code ec;
  std::size_t offset = 0;
  while (offset < size && !parser.is_done()) {
    std::size_t used = parser.put(boost::asio::buffer(data + offset, size - offset), ec);
    if (ec == bhttp::error::need_more) break;
    if (ec) return 0;
    if (used == 0) break;
    offset += used;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }

  dh::Request request;
  request.raw = parser.release();
  try {
    dh::parse_target(request);
    (void)router().dispatch(request);
  } catch (const Error&) {
    // A clear refusal is the expected outcome for most inputs.
  }
  return 0;
}
