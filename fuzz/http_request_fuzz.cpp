// Fuzzes what the server does with the bytes of one request before a handler
// runs: the HTTP/1.1 parser with the server's limits, target and query
// decoding, routing with path parameters, and the typed accessors handlers
// use (query numbers and booleans, headers, the JSON body), and the bearer
// token through the JWT verifier (HS256 key configured).
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

#include "auth/access.hpp"
#include "auth/jwt.hpp"
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
    const auto dh_public = duckmesh::auth::Access::public_route();
    const auto dh_reader = duckmesh::auth::Access::path_product(duckmesh::auth::Role::reader);
    const auto dh_super = duckmesh::auth::Access::superadmin();
    auto echo = [](dh::Request& request) {
      for (const auto& [name, value] : request.path_params) (void)request.path_param(name);
      (void)request.int_query_param("limit", 100, 1, 10000);
      (void)request.bool_query_param("wait_for_visibility", false);
      (void)request.query_param("cursor");
      (void)request.header("Authorization");
      if (!request.body().empty()) (void)request.json_body();
      return dh::Response::text(200, request.path, "text/plain");
    };
    r->add(dh::Verb::get, "/v1/products", dh_super, echo);
    r->add(dh::Verb::post, "/v1/products", dh_super, echo);
    r->add(dh::Verb::get, "/v1/products/search", dh_super, echo);
    r->add(dh::Verb::get, "/v1/products/{product}", dh_reader, echo);
    r->add(dh::Verb::get, "/v1/products/{product}/tables/{table}", dh_reader, echo);
    r->add(dh::Verb::delete_, "/v1/products/{product}/tables/{table}", dh_reader, echo);
    r->add(dh::Verb::post, "/v1/products/{product}/tables/{table}/events", dh_reader, echo);
    r->add(dh::Verb::get, "/v1/products/{product}/visibility/{token}", dh_reader, echo);
    r->add(dh::Verb::post, "/v1/products/{product}/query", dh_reader, echo);
    r->add(dh::Verb::get, "/ops/{entity}/{id}", dh_super, echo);
    r->add(dh::Verb::get, "/monitoring/health", dh_public, echo);
    return r;
  }();
  return *instance;
}

const duckmesh::auth::JwtVerifier& jwt() {
  static const duckmesh::auth::JwtVerifier verifier([] {
    duckmesh::auth::JwtOptions o;
    o.hs256_secret = "fuzzing-secret-of-at-least-32-bytes!!";
    o.audience = "duckmesh";
    return o;
  }());
  return verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dh::ServerOptions limits;
  bhttp::request_parser<dh::RequestBody> parser;
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
  }
  try {
    std::string_view authorization = request.header("Authorization");
    if (authorization.starts_with("Bearer ")) {
      (void)jwt().verify(authorization.substr(7), 1'800'000'000);
    }
  } catch (const Error&) {
    // A clear refusal is the expected outcome for most inputs.
  }
  return 0;
}
