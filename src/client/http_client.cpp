#include "client/http_client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <cctype>
#include <optional>

#include "client/gzip.hpp"
#include "common/error.hpp"

namespace duckmesh::client {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bhttp::verb to_verb(Method m) {
  switch (m) {
    case Method::get: return bhttp::verb::get;
    case Method::post: return bhttp::verb::post;
    case Method::delete_: return bhttp::verb::delete_;
  }
  return bhttp::verb::get;
}

// Runs one asynchronous Beast/Asio operation to completion on `ioc` and
// returns its error code. tcp_stream deadlines apply only to asynchronous
// operations, which is why the blocking client is built on them.
template <class Start>
error_code run_to_completion(net::io_context& ioc, Start&& start) {
  error_code result;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// The server closed a kept-alive connection before it saw our request.
bool stale_connection(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  auto tenths = ms.count() / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") +
         " s";
}

// A response body read into memory for a non-2xx status is capped: error
// bodies are small, and a misbehaving peer must not exhaust memory.
constexpr std::size_t kMaxBufferedErrorBody = 4u << 20;

}  // namespace

std::string ServerAddress::url() const {
  return "http://" + host + (port == "80" ? "" : ":" + port) + base_path;
}

ServerAddress ServerAddress::parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::invalid_input,
                 "server URL '" + std::string(text) + "' " + why +
                     "; expected http://host[:port][/prefix], such as " + kDefaultServer,
                 {{"field", "server"}});
  };
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    // "host:port" without a scheme is a common shorthand; accept it.
    if (text.find("://") == std::string_view::npos && !text.empty()) {
      return parse("http://" + std::string(text));
    }
    throw bad("is not a URL");
  }
  const auto& u = *parsed;
  if (lower(u.scheme()) == "https") {
    throw bad("uses https, which the DuckMesh server does not speak (it serves plain HTTP)");
  }
  if (lower(u.scheme()) != "http") throw bad("must use the http scheme");
  if (u.has_userinfo()) throw bad("must not carry a user name or password");
  if (u.has_query() || u.has_fragment()) throw bad("must not have a query or fragment");
  ServerAddress out;
  out.host = std::string(u.encoded_host_address());
  // Brackets of an IPv6 literal are URL syntax, not part of the address.
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) throw bad("has no host");
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) throw bad("has an invalid port");
    out.port = std::to_string(u.port_number());
  }
  out.base_path = std::string(u.encoded_path());
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

ServerAddress resolve_server(std::string_view flag, const char* env) {
  if (!flag.empty()) return ServerAddress::parse(flag);
  if (env != nullptr && *env != '\0') return ServerAddress::parse(env);
  return ServerAddress::parse(kDefaultServer);
}

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string path_segment(std::string_view text) {
  return boost::urls::encode(text, boost::urls::pchars);
}

struct HttpClient::Connection {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void close() {
    if (stream) {
      error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
    }
    buffer.clear();
  }
};

HttpClient::HttpClient(ServerAddress server, HttpClientOptions options)
    : server_(std::move(server)), options_(options), connection_(std::make_unique<Connection>()) {}

HttpClient::~HttpClient() {
  connection_->close();
}

HttpResponse HttpClient::send(const HttpRequest& request) {
  return exchange(request, nullptr);
}

HttpResponse HttpClient::send(const HttpRequest& request, const BodySink& sink) {
  return exchange(request, &sink);
}

HttpResponse HttpClient::exchange(const HttpRequest& request, const BodySink* sink) {
  Connection& c = *connection_;
  const std::string where = server_.url();

  bhttp::request<bhttp::string_body> req{to_verb(request.method),
                                         server_.base_path + request.target, 11};
  req.set(bhttp::field::host, server_.host + (server_.port == "80" ? "" : ":" + server_.port));
  req.set(bhttp::field::user_agent, std::string("duckmesh-cli/") + DUCKMESH_VERSION);
  req.keep_alive(true);
  if (!server_.api_key.empty()) req.set(bhttp::field::authorization, "Bearer " + server_.api_key);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (request.gzip_body) {
    req.set(bhttp::field::content_encoding, "gzip");
    req.body() = gzip_compress(request.body);
  } else {
    req.body() = request.body;
  }
  req.prepare_payload();

  // At most two tries: the second only when a reused connection turns out
  // to have been closed by the server before it read the request.
  for (int attempt = 0;; ++attempt) {
    const bool reused = c.stream.has_value();
    if (!c.stream) {
      tcp::resolver resolver(c.ioc);
      error_code ec;
      auto endpoints = resolver.resolve(server_.host, server_.port, ec);
      if (ec)
        throw TransportError("cannot resolve " + server_.host + " (" + where +
                             "): " + ec.message());
      c.stream.emplace(c.ioc);
      c.stream->expires_after(options_.connect_timeout);
      ec = run_to_completion(
          c.ioc, [&](auto handler) { c.stream->async_connect(endpoints, std::move(handler)); });
      if (ec) {
        c.close();
        if (ec == beast::error::timeout) {
          throw TransportError("cannot connect to " + where + ": no answer within " +
                               seconds_text(options_.connect_timeout));
        }
        throw TransportError("cannot connect to " + where + ": " + ec.message());
      }
    }

    c.stream->expires_after(options_.read_timeout);
    error_code ec = run_to_completion(
        c.ioc, [&](auto handler) { bhttp::async_write(*c.stream, req, std::move(handler)); });
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    if (!ec) {
      c.stream->expires_after(options_.read_timeout);
      ec = run_to_completion(c.ioc, [&](auto handler) {
        bhttp::async_read_header(*c.stream, c.buffer, parser, std::move(handler));
      });
    }
    if (ec) {
      c.close();
      if (reused && attempt == 0 && stale_connection(ec)) continue;
      if (ec == beast::error::timeout) {
        throw TransportError("no answer from " + where + " within " +
                             seconds_text(options_.read_timeout));
      }
      throw TransportError("connection to " + where + " failed: " + ec.message());
    }

    HttpResponse out;
    out.status = parser.get().result_int();
    for (const auto& field : parser.get()) {
      out.headers[lower(field.name_string())] = std::string(field.value());
    }
    const bool stream_body = sink != nullptr && out.ok();
    std::array<char, 64 * 1024> chunk{};
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      c.stream->expires_after(options_.read_timeout);
      ec = run_to_completion(c.ioc, [&](auto handler) {
        bhttp::async_read(*c.stream, c.buffer, parser, std::move(handler));
      });
      if (ec == bhttp::error::need_buffer) ec = {};
      // Bytes that arrived before a failure are handed on first, so a sink
      // sees everything the server sent before the cut.
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (n > 0) {
        if (stream_body) {
          (*sink)(std::string_view(chunk.data(), n));
        } else if (!out.ok() && out.body.size() + n > kMaxBufferedErrorBody) {
          c.close();
          throw TransportError("the error response from " + where + " is larger than " +
                               std::to_string(kMaxBufferedErrorBody >> 20) + " MiB");
        } else {
          out.body.append(chunk.data(), n);
        }
      }
      if (ec) {
        c.close();
        if (ec == beast::error::timeout) {
          throw TransportError("the response from " + where + " stalled for " +
                               seconds_text(options_.read_timeout));
        }
        throw TransportError("the response from " + where + " was cut short: " + ec.message());
      }
    }
    if (!parser.keep_alive()) c.close();
    return out;
  }
}

}  // namespace duckmesh::client
