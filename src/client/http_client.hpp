// HttpClient: a small blocking HTTP/1.1 client for the command-line tools
// that talk to a running DuckMesh server (ingest, query, shell).
//
// One instance holds at most one keep-alive connection and sends requests on
// it one at a time. Every network step has a deadline: connecting waits up to
// connect_timeout, and each write or read waits up to read_timeout for
// progress, so a silent server never hangs a command.
//
// A request sent on a reused connection that the server had already closed
// (its keep-alive idle timeout) is sent once more on a fresh connection, so
// callers must only send requests that are safe to repeat (the tools' are:
// queries read, ingest batches carry an Idempotency-Key); any other
// connection failure is a TransportError for the caller to retry or
// report. Non-2xx statuses are not errors here: the caller gets the response
// and decides (see server_error.hpp).
//
// Thread safety: none; one instance per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duckmesh::client {

// Where the server listens: http://host[:port][/prefix].
struct ServerAddress {
  std::string host;
  std::string port = "80";
  std::string base_path;  // "" or "/prefix" without a trailing slash
  // Sent as Authorization: Bearer with every request when not empty (an API
  // key or a JWT; --api-key or DUCKMESH_API_KEY). Never part of url().
  std::string api_key;

  // "http://host:port/prefix", for messages.
  std::string url() const;

  // Parses an http:// URL with an optional port and path prefix. Throws
  // duckmesh::Error (invalid_input) naming what is wrong; https is refused
  // with a message, since the server speaks plain HTTP (put TLS in front
  // with a proxy and point the client at the proxy's plain side).
  static ServerAddress parse(std::string_view url);
};

inline constexpr const char* kDefaultServer = "http://127.0.0.1:8080";

// The server a command talks to: `flag` when not empty, else `env` (the
// DUCKMESH_SERVER variable) when set and not empty, else kDefaultServer.
ServerAddress resolve_server(std::string_view flag, const char* env);

enum class Method { get, post, delete_ };

struct HttpRequest {
  Method method = Method::get;
  std::string target;  // path and query, appended to the server's base path
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool gzip_body = false;  // send the body gzip-compressed (Content-Encoding: gzip)
};

struct HttpResponse {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The header's value, or "" when absent. `lower_name` must be lower case.
  std::string header(const std::string& lower_name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

// The server could not be reached, or the connection failed or timed out
// before a complete response arrived.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds read_timeout{120'000};  // per write/read step, not per request
};

// Receives the body of a 2xx response piece by piece as it arrives.
using BodySink = std::function<void(std::string_view)>;

class HttpClient {
 public:
  explicit HttpClient(ServerAddress server, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and reads the whole response. Throws TransportError.
  HttpResponse send(const HttpRequest& request);

  // Like send(), but the body of a 2xx response goes to `sink` as it arrives
  // instead of into the returned response; other statuses are read into
  // `body` as usual. A TransportError after the sink got data means the
  // response was cut short.
  HttpResponse send(const HttpRequest& request, const BodySink& sink);

  const ServerAddress& server() const { return server_; }

 private:
  struct Connection;
  HttpResponse exchange(const HttpRequest& request, const BodySink* sink);

  ServerAddress server_;
  HttpClientOptions options_;
  std::unique_ptr<Connection> connection_;
};

// `text` percent-encoded for use as one path segment.
std::string path_segment(std::string_view text);

}  // namespace duckmesh::client
