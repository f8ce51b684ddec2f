// The HTTP surface hardened as an operator would expose it: trusted hosts,
// CORS, security headers, TLS, and many slow clients at once. Each test
// runs the real binary on a loopback port.
#include <gtest/gtest.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <memory>
#include <vector>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

using boost::beast::http::verb;

std::vector<std::string> base_args() {
  return {"--onto-server-url", "http://127.0.0.1:9", "--maintenance-enabled", "false"};
}

std::vector<std::string> with(std::vector<std::string> extra) {
  auto args = base_args();
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(HttpHardening, OnlyTrustedHostsAreServed) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data",
                         with({"--trusted-hosts", "localhost, *.example.com"}));
  HttpClient client("127.0.0.1", service.port());
  EXPECT_EQ(client.request(verb::get, "/openapi.json", "", {{"Host", "localhost:1234"}}).status,
            200u);
  EXPECT_EQ(client.request(verb::get, "/openapi.json", "", {{"Host", "api.example.com"}}).status,
            200u);
  for (const char* host : {"evil.test", "example.com", "127.0.0.1"}) {
    auto r = client.request(verb::get, "/openapi.json", "", {{"Host", host}});
    EXPECT_EQ(r.status, 400u) << host;
    auto error = r.json().at("error").as_object();
    EXPECT_EQ(error.at("code").as_string(), "invalid_input");
    EXPECT_EQ(error.at("details").at("host").as_string(), host);
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << "errors carry the headers too";
  }
}

TEST(HttpHardening, CorsAllowsOnlyConfiguredOrigins) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data", with({"--cors-origins", "https://app.example.com"}));
  HttpClient client("127.0.0.1", service.port());
  auto allowed =
      client.request(verb::get, "/v1/products", "", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(allowed.status, 200u);
  EXPECT_EQ(allowed.header("access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(allowed.header("vary"), "Origin");

  auto preflight = client.request(verb::options, "/v1/products/default/tables/t/events", "",
                                  {{"Origin", "https://app.example.com"},
                                   {"Access-Control-Request-Method", "POST"},
                                   {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_NE(preflight.header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_NE(preflight.header("access-control-allow-headers").find("Content-Type"),
            std::string::npos);

  auto other = client.request(verb::get, "/v1/products", "", {{"Origin", "https://evil.test"}});
  EXPECT_EQ(other.status, 200u);
  EXPECT_EQ(other.header("access-control-allow-origin"), "");
  auto refused = client.request(
      verb::options, "/v1/products", "",
      {{"Origin", "https://evil.test"}, {"Access-Control-Request-Method", "DELETE"}});
  EXPECT_EQ(refused.status, 403u);
  EXPECT_EQ(refused.json().at("error").at("code").as_string(), "forbidden");
}

TEST(HttpHardening, SecurityHeadersOnApiAndDocsPages) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data", base_args());
  HttpClient client("127.0.0.1", service.port());
  auto api = client.get("/openapi.json");
  EXPECT_EQ(api.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(api.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(api.header("content-security-policy"), "");
  auto docs = client.get("/docs");
  EXPECT_EQ(docs.status, 200u);
  EXPECT_NE(docs.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_NE(docs.header("content-security-policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(docs.header("x-frame-options"), "DENY");
  EXPECT_EQ(docs.header("strict-transport-security"), "");  // plain HTTP: no HSTS
}

TEST(HttpHardening, ClientIpRateLimitAnswers429WithRetryAfter) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data",
                         with({"--rate-limit-ip", "0.2", "--rate-limit-ip-burst", "3"}));
  HttpClient client("127.0.0.1", service.port());
  auto first = client.get("/openapi.json");
  EXPECT_EQ(first.status, 200u);
  EXPECT_EQ(first.header("ratelimit-limit"), "3");
  EXPECT_EQ(first.header("ratelimit-remaining"), "2");
  EXPECT_EQ(client.get("/openapi.json").status, 200u);
  EXPECT_EQ(client.get("/openapi.json").status, 200u);
  auto refused = client.get("/openapi.json");
  EXPECT_EQ(refused.status, 429u);
  EXPECT_EQ(refused.json().at("error").at("code").as_string(), "rate_limited");
  EXPECT_EQ(refused.json().at("error").at("details").at("scope").as_string(), "ip");
  int retry_after = std::stoi(refused.header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 5);
  EXPECT_EQ(refused.header("ratelimit-remaining"), "0");
  auto metrics = client.get("/metrics");
  EXPECT_EQ(metrics.status, 429u);  // the same client is still limited
}

TEST(HttpHardening, CredentialRateLimitFollowsTheKeyNotTheAddress) {
  TempDir dir;
  auto data = dir.path() / "data";
  auto key = [&] {
    auto r = run_binary({"keys", "create", "--data-dir", data.string(), "--role", "superadmin"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::map<std::string, std::string>{
        {"Authorization", "Bearer " + r.out.substr(0, r.out.find('\n'))}};
  };
  auto a = key(), b = key();
  ServiceProcess service(data, with({"--rate-limit-key", "0.2", "--rate-limit-key-burst", "2"}), {},
                         Auth::required);
  HttpClient client("127.0.0.1", service.port());
  EXPECT_EQ(client.request(verb::get, "/v1/products", "", a).status, 200u);
  auto second = client.request(verb::get, "/v1/products", "", a);
  EXPECT_EQ(second.status, 200u);
  EXPECT_EQ(second.header("ratelimit-remaining"), "0");
  auto refused = client.request(verb::get, "/v1/products", "", a);
  ASSERT_EQ(refused.status, 429u) << refused.body;
  EXPECT_EQ(refused.json().at("error").at("details").at("scope").as_string(), "credential");
  EXPECT_EQ(client.request(verb::get, "/v1/products", "", b).status, 200u);
  // Public routes carry no credential and are not limited by one.
  EXPECT_EQ(client.get("/openapi.json").status, 200u);
}

// A self-signed certificate for 127.0.0.1, made with the openssl tool.
struct Certificate {
  std::filesystem::path cert, key;
};

Certificate make_certificate(const std::filesystem::path& dir, const std::string& name) {
  Certificate c{dir / (name + ".crt"), dir / (name + ".key")};
  auto r = run_program("/usr/bin/openssl",
                       {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                        c.key.string(), "-out", c.cert.string()});
  if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.err);
  return c;
}

// One HTTPS GET that verifies the server against `ca`; returns the status,
// or throws the handshake or verification error.
unsigned https_get(unsigned short port, const std::filesystem::path& ca, const std::string& target,
                   std::string* hsts = nullptr) {
  namespace ssl = boost::asio::ssl;
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(ca.string());
  context.set_verify_mode(ssl::verify_peer);
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream(ioc, context);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  boost::asio::ip::tcp::resolver resolver(ioc);
  boost::beast::get_lowest_layer(stream).connect(
      resolver.resolve("127.0.0.1", std::to_string(port)));
  stream.handshake(ssl::stream_base::client);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (hsts) *hsts = std::string(res[http::field::strict_transport_security]);
  return res.result_int();
}

TEST(HttpHardening, TlsServesVerifiedHttpsOnly) {
  TempDir dir;
  auto cert = make_certificate(dir.path(), "server");
  auto other = make_certificate(dir.path(), "other");
  ServiceProcess service(dir.path() / "data",
                         with({"--tls-cert-file", cert.cert.string(), "--tls-key-file",
                               cert.key.string(), "--read-timeout-ms", "2000"}));
  std::string hsts;
  EXPECT_EQ(https_get(service.port(), cert.cert, "/openapi.json", &hsts), 200u);
  EXPECT_NE(hsts.find("max-age="), std::string::npos);
  // A client that trusts another certificate refuses the handshake.
  EXPECT_THROW(https_get(service.port(), other.cert, "/openapi.json"), boost::system::system_error);
  // Plain HTTP on the TLS port gets no HTTP answer: the connection ends.
  RawConnection plain("127.0.0.1", service.port());
  plain.send("GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(plain.read_all().find("HTTP/1.1"), std::string::npos);
}

TEST(HttpHardening, MismatchedTlsKeyIsRefusedAtStart) {
  TempDir dir;
  auto cert = make_certificate(dir.path(), "server");
  auto other = make_certificate(dir.path(), "other");
  auto r =
      run_binary({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "data").string(),
                  "--onto-server-url", "http://127.0.0.1:9", "--tls-cert-file", cert.cert.string(),
                  "--tls-key-file", other.key.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot use the TLS private key in tls_key_file"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("mismatch"), std::string::npos) << r.err;
}

// Slowloris: many connections that never finish their headers hold no
// worker and do not keep others from being served; each is dropped once
// read_timeout passes.
TEST(HttpHardening, ManySlowClientsDoNotStarveOthers) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data", with({"--read-timeout-ms", "1500"}));
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 300; ++i) {
    slow.push_back(std::make_unique<RawConnection>("127.0.0.1", service.port()));
    slow.back()->send("GET /monitoring/health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  for (int i = 0; i < 5; ++i) {
    HttpClient client("127.0.0.1", service.port());
    EXPECT_EQ(client.get("/openapi.json").status, 200u);
  }
  // Every slow connection is closed by the server (reads return at once
  // after read_timeout; a connection still open would block the test).
  int closed = 0;
  for (auto& connection : slow) closed += connection->closed_by_peer() ? 1 : 0;
  EXPECT_EQ(closed, 300);
  HttpClient after("127.0.0.1", service.port());
  EXPECT_EQ(after.get("/openapi.json").status, 200u);
}

}  // namespace
}  // namespace duckmesh::testing
