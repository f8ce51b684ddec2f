// An HTTP proxy in front of a real server that injects the faults a network
// and an overloaded server produce: 5xx answers and slow answers. Used in
// front of the S3-compatible server to see how the service copes; it does
// not answer anything itself except the injected errors.
//
// One thread per client connection, each request forwarded on a fresh
// upstream connection; the request is forwarded verbatim (Host included, so
// signatures still match).
#pragma once

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace duckmesh::testing {

class FaultProxy {
 public:
  // Forwards to 127.0.0.1:upstream_port; listens on a free loopback port.
  explicit FaultProxy(unsigned short upstream_port)
      : upstream_port_(upstream_port), acceptor_(ioc_) {
    namespace net = boost::asio;
    net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~FaultProxy() {
    stopping_ = true;
    boost::system::error_code ec;
    {
      // A blocking accept() does not return when the acceptor is closed from
      // another thread; a connection of our own wakes it.
      boost::asio::io_context ioc;
      boost::asio::ip::tcp::socket wake(ioc);
      wake.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
      accept_thread_.join();
    }
    acceptor_.close(ec);
    std::lock_guard lock(mutex_);
    for (auto& socket : sockets_) {
      socket->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
    for (auto& t : connections_) t.join();
  }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every request from now on answers 500 (with an S3-style error body)
  // until fail_all(false); fail_next(n) fails only the next n requests.
  void fail_all(bool on) { fail_all_ = on; }
  void fail_next(int n) { fail_next_ = n; }
  // Delays every forwarded request by `delay` before it goes upstream.
  void delay(std::chrono::milliseconds delay) { delay_ms_ = static_cast<int>(delay.count()); }

  // Answers 500 to the requests whose method and target ("PUT /b/k?x=1")
  // contain `fragment`: the next `times` of them, or all (times < 0) until
  // cleared with "".
  void fail_matching(const std::string& fragment, int times = -1) {
    std::lock_guard lock(mutex_);
    fail_matching_ = fragment;
    fail_matching_times_ = times;
  }
  // Method and target of every request seen, in order.
  std::vector<std::string> request_lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

  int requests_seen() const { return seen_; }
  int requests_failed() const { return failed_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      std::lock_guard lock(mutex_);
      auto shared = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket));
      sockets_.push_back(shared);
      connections_.emplace_back([this, shared] { serve(*shared); });
    }
  }

  void serve(boost::asio::ip::tcp::socket& client) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(1ull << 32);
      http::read(client, buffer, parser, ec);
      if (ec) return;
      auto request = parser.release();
      ++seen_;
      const std::string line =
          std::string(request.method_string()) + " " + std::string(request.target());
      bool fail = fail_all_.load();
      {
        std::lock_guard lock(mutex_);
        lines_.push_back(line);
        if (!fail_matching_.empty() && fail_matching_times_ != 0 &&
            line.find(fail_matching_) != std::string::npos) {
          fail = true;
          if (fail_matching_times_ > 0) --fail_matching_times_;
        }
      }
      if (!fail && fail_next_.load() > 0 && fail_next_.fetch_sub(1) > 0) fail = true;
      http::response<http::string_body> response;
      if (fail) {
        ++failed_;
        response.result(http::status::internal_server_error);
        response.set(http::field::content_type, "application/xml");
        response.body() =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code>"
            "<Message>injected by the test's fault proxy</Message></Error>";
      } else {
        if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
        if (!forward(request, response)) return;
      }
      response.version(request.version());
      response.keep_alive(request.keep_alive());
      // A HEAD answer keeps the upstream Content-Length (its body is empty).
      if (request.method() != http::verb::head) response.prepare_payload();
      if (request.method() == http::verb::head) {
        // Keep the upstream Content-Length of a HEAD answer.
        http::response<http::empty_body> head{response.result(), response.version()};
        for (const auto& field : response) head.set(field.name_string(), field.value());
        http::response_serializer<http::empty_body> sr{head};
        http::write_header(client, sr, ec);
      } else {
        http::write(client, response, ec);
      }
      if (ec || !request.keep_alive()) return;
    }
  }

  bool forward(boost::beast::http::request<boost::beast::http::string_body>& request,
               boost::beast::http::response<boost::beast::http::string_body>& response) {
    namespace http = boost::beast::http;
    boost::asio::io_context ioc;
    boost::beast::tcp_stream upstream(ioc);
    boost::system::error_code ec;
    upstream.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), upstream_port_),
        ec);
    if (ec) return false;  // upstream down: the client sees the connection drop
    request.keep_alive(false);
    http::write(upstream, request, ec);
    if (ec) return false;
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (request.method() == http::verb::head) parser.skip(true);
    http::read(upstream, buffer, parser, ec);
    if (ec) return false;
    response = parser.release();
    return true;
  }

  unsigned short upstream_port_;
  unsigned short port_ = 0;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::string fail_matching_;       // guarded by mutex_
  int fail_matching_times_ = -1;    // guarded by mutex_
  std::vector<std::string> lines_;  // guarded by mutex_
  std::vector<std::thread> connections_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> fail_all_{false};
  std::atomic<int> fail_next_{0};
  std::atomic<int> delay_ms_{0};
  std::atomic<int> seen_{0};
  std::atomic<int> failed_{0};
};

}  // namespace duckmesh::testing
