// HttpClient against a scripted loopback server: keep-alive, reconnecting
// after the server closed an idle connection, timeouts, chunked bodies,
// gzip request bodies, and retries.
#include "client/http_client.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <boost/asio.hpp>
#include <thread>

#include "client/gzip.hpp"
#include "client/retry.hpp"
#include "client/server_error.hpp"
#include "common/error.hpp"

namespace duckmesh::client {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Accepts one connection per handler, in order, on a loopback port, and
// runs the handler on it.
class ScriptedServer {
 public:
  using Handler = std::function<void(tcp::socket&)>;

  explicit ScriptedServer(std::vector<Handler> handlers)
      : acceptor_(ioc_, tcp::endpoint(net::ip::address_v4::loopback(), 0)) {
    acceptor_.non_blocking(true);
    thread_ = std::thread([this, handlers = std::move(handlers)] {
      for (const auto& handler : handlers) {
        tcp::socket socket(ioc_);
        boost::system::error_code ec;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
          acceptor_.accept(socket, ec);
          if (ec != net::error::would_block && ec != net::error::try_again) break;
          if (stop_ || std::chrono::steady_clock::now() > deadline) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (ec) return;
        socket.non_blocking(false);
        ++accepted_;
        handler(socket);
      }
    });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
  }

  ServerAddress address() const {
    ServerAddress a;
    a.host = "127.0.0.1";
    a.port = std::to_string(acceptor_.local_endpoint().port());
    return a;
  }
  int accepted() const { return accepted_; }

 private:
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
};

// Reads one request (head and Content-Length body); "" when the peer closed.
std::string read_request(tcp::socket& socket) {
  std::string data;
  char buf[4096];
  boost::system::error_code ec;
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    auto n = socket.read_some(net::buffer(buf), ec);
    if (ec) return {};
    data.append(buf, n);
  }
  std::size_t length = 0;
  auto at = data.find("Content-Length: ");
  if (at != std::string::npos) length = std::stoul(data.substr(at + 16));
  while (data.size() < head_end + 4 + length) {
    auto n = socket.read_some(net::buffer(buf), ec);
    if (ec) break;
    data.append(buf, n);
  }
  return data;
}

void write(tcp::socket& socket, const std::string& text) {
  boost::system::error_code ec;
  net::write(socket, net::buffer(text), ec);
}

std::string response(unsigned status, const std::string& body,
                     const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra_headers + "\r\n" + body;
}

std::string gunzip(const std::string& data) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "<inflate failed>";
}

TEST(HttpClient, SendsTheRequestAndReadsTheResponse) {
  std::string seen;
  ScriptedServer server({[&](tcp::socket& s) {
    seen = read_request(s);
    write(s, response(201, R"({"ok":true})", "X-Thing: yes\r\n"));
  }});
  ServerAddress address = server.address();
  address.base_path = "/prefix";
  HttpClient client(address);
  HttpRequest request;
  request.method = Method::post;
  request.target = "/v1/things?x=1";
  request.body = R"({"a":1})";
  request.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", "k:1"}};
  auto r = client.send(request);
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(r.body, R"({"ok":true})");
  EXPECT_EQ(r.header("x-thing"), "yes");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(seen.rfind("POST /prefix/v1/things?x=1 HTTP/1.1\r\n", 0), 0u) << seen;
  EXPECT_NE(seen.find("Host: 127.0.0.1:" + address.port), std::string::npos) << seen;
  EXPECT_NE(seen.find("Idempotency-Key: k:1"), std::string::npos) << seen;
  EXPECT_NE(seen.find("User-Agent: duckmesh-cli/"), std::string::npos) << seen;
  EXPECT_EQ(seen.substr(seen.size() - 7), R"({"a":1})");
}

TEST(HttpClient, KeepsTheConnectionAlive) {
  ScriptedServer server({[&](tcp::socket& s) {
    for (int i = 0; i < 3; ++i) {
      if (read_request(s).empty()) return;
      write(s, response(200, "{\"n\":" + std::to_string(i) + "}"));
    }
  }});
  HttpClient client(server.address());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.send(HttpRequest{}).body, "{\"n\":" + std::to_string(i) + "}");
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClient, ReconnectsWhenTheServerClosedAnIdleConnection) {
  ScriptedServer server({[&](tcp::socket& s) {
                           read_request(s);
                           write(s, response(200, "{\"first\":1}"));
                           s.close();  // as an idle keep-alive timeout would
                         },
                         [&](tcp::socket& s) {
                           read_request(s);
                           write(s, response(200, "{\"second\":2}"));
                         }});
  HttpClient client(server.address());
  EXPECT_EQ(client.send(HttpRequest{}).body, "{\"first\":1}");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(client.send(HttpRequest{}).body, "{\"second\":2}");
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClient, ASilentServerTimesOut) {
  ScriptedServer server({[&](tcp::socket& s) {
    read_request(s);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }});
  HttpClientOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  HttpClient client(server.address(), options);
  auto started = std::chrono::steady_clock::now();
  try {
    client.send(HttpRequest{});
    FAIL() << "expected a timeout";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("no answer"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1200));
}

TEST(HttpClient, NobodyListeningIsATransportError) {
  std::string port;
  {
    net::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    port = std::to_string(a.local_endpoint().port());
  }
  HttpClient client(ServerAddress::parse("http://127.0.0.1:" + port));
  try {
    client.send(HttpRequest{});
    FAIL() << "expected an error";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to http://127.0.0.1:" + port),
              std::string::npos)
        << e.what();
  }
}

TEST(HttpClient, StreamsAChunkedBodyToTheSink) {
  ScriptedServer server({[&](tcp::socket& s) {
    read_request(s);
    write(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na,b\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write(s, "4\r\n1,2\n\r\n0\r\n\r\n");
  }});
  HttpClient client(server.address());
  std::string got;
  BodySink sink = [&](std::string_view bytes) { got.append(bytes); };
  auto r = client.send(HttpRequest{}, sink);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(got, "a,b\n1,2\n");
  EXPECT_TRUE(r.body.empty());
}

TEST(HttpClient, ErrorBodiesAreNotStreamed) {
  ScriptedServer server({[&](tcp::socket& s) {
    read_request(s);
    write(s, response(404, R"({"error":{"code":"not_found","message":"no such product"}})"));
  }});
  HttpClient client(server.address());
  bool called = false;
  BodySink sink = [&](std::string_view) { called = true; };
  auto r = client.send(HttpRequest{}, sink);
  EXPECT_EQ(r.status, 404u);
  EXPECT_FALSE(called);
  EXPECT_EQ(ServerError::from_response(r).message(), "no such product");
}

TEST(HttpClient, AResponseCutShortIsATransportError) {
  ScriptedServer server({[&](tcp::socket& s) {
    read_request(s);
    write(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na,b\n\r\n");
    s.close();
  }});
  HttpClient client(server.address());
  std::string got;
  BodySink sink = [&](std::string_view bytes) { got.append(bytes); };
  EXPECT_THROW(client.send(HttpRequest{}, sink), TransportError);
  EXPECT_EQ(got, "a,b\n");
}

TEST(HttpClient, GzipsTheBodyWhenAsked) {
  std::string seen;
  ScriptedServer server({[&](tcp::socket& s) {
    seen = read_request(s);
    write(s, response(200, "{}"));
  }});
  HttpClient client(server.address());
  HttpRequest request;
  request.method = Method::post;
  std::string body;
  for (int i = 0; i < 500; ++i)
    body += "{\"id\":" + std::to_string(i) + ",\"note\":\"same text\"}\n";
  request.body = body;
  request.gzip_body = true;
  client.send(request);
  EXPECT_NE(seen.find("Content-Encoding: gzip"), std::string::npos);
  const std::string sent = seen.substr(seen.find("\r\n\r\n") + 4);
  EXPECT_LT(sent.size(), body.size() / 4);
  EXPECT_TRUE(gunzip(sent) == body);
}

TEST(Gzip, EmptyAndLargeInputsRoundTrip) {
  EXPECT_EQ(gunzip(gzip_compress("")), "");
  std::string big;
  for (int i = 0; i < 200'000; ++i) big += static_cast<char>('a' + (i * 7919) % 26);
  EXPECT_TRUE(gunzip(gzip_compress(big)) == big);
}

TEST(SendWithRetry, RetriesUnavailableHonouringRetryAfter) {
  ScriptedServer server({[&](tcp::socket& s) {
    read_request(s);
    write(s, response(503, R"({"error":{"code":"unavailable","message":"busy"}})",
                      "Retry-After: 0\r\n"));
    read_request(s);
    write(s, response(200, "{\"done\":true}"));
  }});
  HttpClient client(server.address());
  std::vector<std::string> reasons;
  std::vector<std::chrono::milliseconds> delays;
  auto r = send_with_retry(client, HttpRequest{}, RetryPolicy{},
                           [&](const std::string& why, std::chrono::milliseconds delay) {
                             reasons.push_back(why);
                             delays.push_back(delay);
                           });
  EXPECT_EQ(r.status, 200u);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("HTTP 503 unavailable: busy"), std::string::npos) << reasons[0];
  EXPECT_EQ(delays[0], std::chrono::milliseconds(0));
}

TEST(SendWithRetry, ReturnsTheLastAnswerWhenAttemptsRunOut) {
  ScriptedServer server({[&](tcp::socket& s) {
    for (int i = 0; i < 2; ++i) {
      read_request(s);
      write(s, response(429, R"({"error":{"code":"rate_limited","message":"slow down"}})",
                        "Retry-After: 0\r\n"));
    }
  }});
  HttpClient client(server.address());
  RetryPolicy policy;
  policy.max_attempts = 2;
  EXPECT_EQ(send_with_retry(client, HttpRequest{}, policy).status, 429u);
}

TEST(SendWithRetry, ClientErrorsAreNotRetried) {
  ScriptedServer server({[&](tcp::socket& s) {
    read_request(s);
    write(s, response(400, R"({"error":{"code":"invalid_input","message":"bad"}})"));
  }});
  HttpClient client(server.address());
  int retries = 0;
  auto r = send_with_retry(client, HttpRequest{}, RetryPolicy{},
                           [&](const std::string&, std::chrono::milliseconds) { ++retries; });
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(retries, 0);
}

TEST(Retry, BackoffDoublesUpToTheCapAndRetryAfterWins) {
  RetryPolicy p;
  p.initial_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  EXPECT_EQ(backoff_delay(p, 1, std::nullopt), std::chrono::milliseconds(100));
  EXPECT_EQ(backoff_delay(p, 2, std::nullopt), std::chrono::milliseconds(200));
  EXPECT_EQ(backoff_delay(p, 4, std::nullopt), std::chrono::milliseconds(800));
  EXPECT_EQ(backoff_delay(p, 5, std::nullopt), std::chrono::milliseconds(1000));
  EXPECT_EQ(backoff_delay(p, 60, std::nullopt), std::chrono::milliseconds(1000));
  EXPECT_EQ(backoff_delay(p, 1, std::chrono::seconds(3)), std::chrono::milliseconds(3000));
  EXPECT_EQ(backoff_delay(p, 1, std::chrono::seconds(100'000)), p.max_retry_after);
}

TEST(Retry, RetryAfterSecondsAndRetryableStatuses) {
  EXPECT_EQ(parse_retry_after("5"), std::chrono::seconds(5));
  EXPECT_EQ(parse_retry_after(" 0 "), std::chrono::seconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after(""), std::nullopt);
  for (unsigned s : {408u, 429u, 502u, 503u, 504u}) EXPECT_TRUE(retryable_status(s)) << s;
  for (unsigned s : {200u, 400u, 404u, 413u, 422u, 500u}) EXPECT_FALSE(retryable_status(s)) << s;
}

TEST(ServerAddress, ParsesHostPortAndPrefix) {
  auto a = ServerAddress::parse("http://db.example.com:9090/duckmesh/");
  EXPECT_EQ(a.host, "db.example.com");
  EXPECT_EQ(a.port, "9090");
  EXPECT_EQ(a.base_path, "/duckmesh");
  EXPECT_EQ(a.url(), "http://db.example.com:9090/duckmesh");
  auto b = ServerAddress::parse("http://localhost");
  EXPECT_EQ(b.port, "80");
  EXPECT_EQ(b.base_path, "");
  EXPECT_EQ(b.url(), "http://localhost");
  auto c = ServerAddress::parse("127.0.0.1:8080");
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, "8080");
  auto d = ServerAddress::parse("http://[::1]:8080");
  EXPECT_EQ(d.host, "::1");
}

TEST(ServerAddress, RefusesWhatItCannotUse) {
  for (const char* bad :
       {"https://x:8443", "ftp://x", "http://", "http://x:8080?q=1", "http://u:p@x", ""}) {
    EXPECT_THROW(ServerAddress::parse(bad), Error) << bad;
  }
}

TEST(ServerAddress, FlagThenEnvironmentThenDefault) {
  EXPECT_EQ(resolve_server("http://a:1", "http://b:2").host, "a");
  EXPECT_EQ(resolve_server("", "http://b:2").host, "b");
  EXPECT_EQ(resolve_server("", "").url(), "http://127.0.0.1:8080");
  EXPECT_EQ(resolve_server("", nullptr).url(), "http://127.0.0.1:8080");
}

TEST(PathSegment, EncodesWhatCannotStandInAPathSegment) {
  EXPECT_EQ(path_segment("orders_2024"), "orders_2024");
  EXPECT_EQ(path_segment("a/b c"), "a%2Fb%20c");
}

TEST(ServerError, DecodesTheErrorBody) {
  HttpResponse r;
  r.status = 422;
  r.body = R"({"error":{"code":"unprocessable","message":"2 of 3 events are invalid",
      "details":{"total":3,"rejected":[{"index":1}]},"request_id":"req-1"}})";
  auto e = ServerError::from_response(r);
  EXPECT_EQ(e.status(), 422u);
  EXPECT_EQ(e.code(), "unprocessable");
  EXPECT_EQ(e.message(), "2 of 3 events are invalid");
  EXPECT_EQ(e.request_id(), "req-1");
  EXPECT_TRUE(e.details().contains("rejected"));
  const std::string text = describe(e, {"rejected"});
  EXPECT_EQ(text,
            "error: 2 of 3 events are invalid\n"
            "  status: HTTP 422 unprocessable\n"
            "  details: {\"total\":3}\n"
            "  request id: req-1\n");
}

TEST(ServerError, KeepsWhatAnotherBodySaid) {
  HttpResponse r;
  r.status = 502;
  r.body = "<html>Bad Gateway</html>\nmore";
  r.headers["x-request-id"] = "proxy-9";
  auto e = ServerError::from_response(r);
  EXPECT_EQ(e.code(), "http_502");
  EXPECT_EQ(e.message(), "<html>Bad Gateway</html>");
  EXPECT_EQ(e.request_id(), "proxy-9");
}

TEST(ServerError, NonJsonSuccessIsAProtocolError) {
  HttpResponse r;
  r.status = 200;
  r.body = "<html>";
  EXPECT_THROW(parse_json_object(r, "the table description"), ProtocolError);
}

}  // namespace
}  // namespace duckmesh::client
