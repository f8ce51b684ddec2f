#include "http/hardening.hpp"

#include <gtest/gtest.h>

#include <string>

namespace duckmesh::http {
namespace {

Request make(Verb verb, std::initializer_list<std::pair<std::string, std::string>> headers) {
  Request r;
  r.raw.method(verb);
  r.raw.target("/v1/products");
  r.path = "/v1/products";
  for (const auto& [name, value] : headers) r.raw.set(name, value);
  return r;
}

int handled = 0;
Response ok(Request&) {
  ++handled;
  return Response::text(200, "ok", "application/json");
}

std::string header_of(const Response& response, const std::string& name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return "";
}

Error refusal(const Middleware& mw, Request request) {
  try {
    mw(request, ok);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "request was not refused";
  return Error(ErrorCode::internal, "not refused");
}

TEST(TrustedHosts, ServesListedHostsWithAnyPort) {
  auto mw = trusted_hosts({"api.example.com", "*.internal.example", "[::1]", "LOCALHOST"});
  for (const char* host : {"api.example.com", "API.Example.com:8443", "a.internal.example",
                           "b.c.internal.example:80", "[::1]:8080", "localhost"}) {
    auto request = make(Verb::get, {{"Host", host}});
    EXPECT_EQ(mw(request, ok).status, 200u) << host;
  }
}

TEST(TrustedHosts, RefusesOtherHostsNamingThem) {
  auto mw = trusted_hosts({"api.example.com", "*.internal.example"});
  for (const char* host : {"evil.com", "api.example.com.evil.com", "internal.example",
                           "xinternal.example", "[::2]:8080"}) {
    Error e = refusal(mw, make(Verb::get, {{"Host", host}}));
    EXPECT_EQ(e.code(), ErrorCode::invalid_input) << host;
    EXPECT_NE(std::string(e.what()).find("is not served here"), std::string::npos) << e.what();
  }
  Error missing = refusal(mw, make(Verb::get, {}));
  EXPECT_NE(std::string(missing.what()).find("no Host header"), std::string::npos);
}

TEST(TrustedHosts, EmptyListServesAnyHostAndBadEntriesAreRefused) {
  auto any = trusted_hosts({});
  auto request = make(Verb::get, {{"Host", "whatever.example"}});
  EXPECT_EQ(any(request, ok).status, 200u);
  for (const char* bad : {"", "*.", "exa mple.com", "http://example.com", "[::1"}) {
    EXPECT_THROW(trusted_hosts({bad}), Error) << bad;
  }
}

TEST(Cors, AllowedOriginGetsItsOwnOriginBackAndExposedHeaders) {
  auto mw = cors({"https://app.example.com", "http://localhost:5173"});
  auto request = make(Verb::get, {{"Origin", "https://app.example.com"}});
  Response r = mw(request, ok);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(header_of(r, "Vary"), "Origin");
  EXPECT_NE(header_of(r, "Access-Control-Expose-Headers").find("Retry-After"), std::string::npos);
}

TEST(Cors, PreflightIsAnsweredWithoutTheHandler) {
  auto mw = cors({"http://localhost:5173"});
  handled = 0;
  auto request = make(Verb::options, {{"Origin", "http://localhost:5173"},
                                      {"Access-Control-Request-Method", "POST"},
                                      {"Access-Control-Request-Headers", "authorization"}});
  Response r = mw(request, ok);
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(handled, 0);
  EXPECT_NE(header_of(r, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(header_of(r, "Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "http://localhost:5173");
}

TEST(Cors, OtherOriginsGetNoCorsHeadersAndTheirPreflightIsRefused) {
  auto mw = cors({"https://app.example.com"});
  auto simple = make(Verb::get, {{"Origin", "https://evil.example"}});
  Response r = mw(simple, ok);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "");
  Error e = refusal(mw, make(Verb::options, {{"Origin", "https://evil.example"},
                                             {"Access-Control-Request-Method", "DELETE"}}));
  EXPECT_EQ(e.code(), ErrorCode::forbidden);
  EXPECT_NE(std::string(e.what()).find("https://evil.example"), std::string::npos);
  // CORS off: even a preflight from anywhere is refused.
  auto off = cors({});
  EXPECT_EQ(refusal(off, make(Verb::options, {{"Origin", "https://app.example.com"},
                                              {"Access-Control-Request-Method", "GET"}}))
                .code(),
            ErrorCode::forbidden);
}

TEST(Cors, WildcardAllowsEveryOriginWithoutEchoingIt) {
  auto mw = cors({"*"});
  auto request = make(Verb::get, {{"Origin", "https://anything.example"}});
  Response r = mw(request, ok);
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(header_of(r, "Vary"), "");
  for (const char* bad : {"app.example.com", "ftp://x.example", "https://x.example/path", ""}) {
    EXPECT_THROW(cors({bad}), Error) << bad;
  }
}

TEST(SecurityHeaders, EveryResponseAndHtmlPagesMore) {
  auto mw = security_headers(false);
  auto request = make(Verb::get, {});
  Response json = mw(request, ok);
  EXPECT_EQ(header_of(json, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_of(json, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header_of(json, "Content-Security-Policy"), "");
  EXPECT_EQ(header_of(json, "Strict-Transport-Security"), "");

  auto html = [](Request&) {
    return Response::text(200, "<html></html>", "text/html; charset=utf-8");
  };
  Response page = security_headers(true)(request, html);
  EXPECT_NE(header_of(page, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(header_of(page, "X-Frame-Options"), "DENY");
  EXPECT_NE(header_of(page, "Strict-Transport-Security").find("max-age="), std::string::npos);

  auto own = [](Request&) {
    Response r = Response::text(200, "<p>", "text/html");
    r.header("Content-Security-Policy", "default-src 'none'");
    return r;
  };
  Response kept = mw(request, own);
  int count = 0;
  for (const auto& h : kept.headers) count += h.first == "Content-Security-Policy";
  EXPECT_EQ(count, 1);
  EXPECT_EQ(header_of(kept, "Content-Security-Policy"), "default-src 'none'");
}

}  // namespace
}  // namespace duckmesh::http
