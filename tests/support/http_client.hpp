// A small blocking HTTP/1.1 client for integration tests (Boost.Beast).
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <map>
#include <string>

namespace duckmesh::testing {

struct HttpResponse {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;

  boost::json::value json() const { return boost::json::parse(body); }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  HttpClient(std::string host, unsigned short port) : host_(std::move(host)), port_(port) {}

  HttpResponse request(boost::beast::http::verb method, const std::string& target,
                       const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    ensure_connected();
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, host_);
    req.keep_alive(true);
    for (auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == http::verb::post || method == http::verb::put) {
      if (!headers.count("Content-Type")) req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    http::write(*stream_, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (method == http::verb::head) parser.skip(true);
    http::read(*stream_, buffer, parser);
    auto res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    for (auto& field : res) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(field.value());
    }
    out.body = res.body();
    if (!res.keep_alive()) stream_.reset();
    return out;
  }

  HttpResponse get(const std::string& target) {
    return request(boost::beast::http::verb::get, target);
  }
  HttpResponse post(const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers = {}) {
    return request(boost::beast::http::verb::post, target, body, headers);
  }

 private:
  void ensure_connected() {
    if (stream_) return;
    boost::asio::ip::tcp::resolver resolver(ioc_);
    stream_ = std::make_unique<boost::beast::tcp_stream>(ioc_);
    stream_->connect(resolver.resolve(host_, std::to_string(port_)));
  }

  std::string host_;
  unsigned short port_;
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::beast::tcp_stream> stream_;
};

// A raw TCP connection to send arbitrary bytes (slow clients, malformed requests).
class RawConnection {
 public:
  RawConnection(const std::string& host, unsigned short port) : socket_(ioc_) {
    boost::asio::ip::tcp::resolver resolver(ioc_);
    boost::asio::connect(socket_, resolver.resolve(host, std::to_string(port)));
  }
  void send(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }
  // Reads until the peer closes (or `limit` bytes); returns what arrived.
  std::string read_all(std::size_t limit = 1 << 20) {
    std::string out;
    char buf[4096];
    boost::system::error_code ec;
    while (out.size() < limit) {
      auto n = socket_.read_some(boost::asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }
  bool closed_by_peer() {
    char c;
    boost::system::error_code ec;
    socket_.read_some(boost::asio::buffer(&c, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace duckmesh::testing
