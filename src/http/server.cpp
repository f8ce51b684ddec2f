#include "http/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <future>

#include "common/thread_name.hpp"
#include "http/middleware.hpp"
#include "obs/log.hpp"

namespace duckmesh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// Owns everything a connection touches. Members are ordered so destruction
// joins the workers first, then destroys the io_context (and with it every
// session still queued), before the handler goes away.
struct Server::Core {
  ServerOptions options;
  Handler handler;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> draining{false};
  net::io_context ioc;
  // Keeps the I/O threads running while a handler works on a worker thread
  // and nothing is pending on the io_context (e.g. after the acceptor closes
  // during a drain). Released by stop().
  net::executor_work_guard<net::io_context::executor_type> keep_running{ioc.get_executor()};
  tcp::acceptor acceptor{ioc};
  WorkerPool workers;
  // SIGINT/SIGTERM are caught from start() on, so a signal sent as soon as
  // the server is announced is not lost before run_until_signal() waits.
  net::io_context signals_ioc;
  std::unique_ptr<net::signal_set> signals;
  // Set when options name a certificate: every connection then speaks TLS.
  std::unique_ptr<net::ssl::context> tls;

  Core(ServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        ioc(static_cast<int>(options.io_threads)),
        workers(options.worker_threads, options.worker_queue_limit) {
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) tls = make_tls_context();
  }

  std::unique_ptr<net::ssl::context> make_tls_context() const;

  void accept();
};

// TLS 1.2 or newer only; the certificate file may hold the chain.
std::unique_ptr<net::ssl::context> Server::Core::make_tls_context() const {
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    throw Error(ErrorCode::invalid_input,
                "TLS needs both tls_cert_file and tls_key_file (one of them is empty)");
  }
  auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    throw Error(ErrorCode::invalid_input,
                "cannot load the TLS certificate chain from tls_cert_file '" +
                    options.tls_cert_file + "': " + ec.message());
  }
  context->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
  if (ec) {
    throw Error(ErrorCode::invalid_input, "cannot use the TLS private key in tls_key_file '" +
                                              options.tls_key_file +
                                              "' with the certificate in tls_cert_file '" +
                                              options.tls_cert_file + "': " + ec.message());
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    throw Error(ErrorCode::invalid_input, "the TLS private key in '" + options.tls_key_file +
                                              "' does not match the certificate in '" +
                                              options.tls_cert_file + "'");
  }
  return context;
}

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection. `Stream` is a plain TCP stream or a TLS stream over one;
// the TLS handshake must finish within read_timeout like a request does.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  // Bytes asked of the socket per read while a body comes in (Beast reads at
  // most 64 KiB at a time anyway).
  static constexpr std::size_t kBodyReadBytes = 64 * 1024;

 public:
  Session(tcp::socket socket, Server::Core* core) requires(!kTls)
      : stream_(std::move(socket)), core_(core) {
    remember_peer();
  }
  Session(tcp::socket socket, Server::Core* core) requires(kTls)
      : stream_(beast::tcp_stream(std::move(socket)), *core->tls), core_(core) {
    remember_peer();
  }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(core_->options.read_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();  // not TLS, or a bad handshake
                                self->read(true);
                              });
    } else {
      read(true);
    }
  }

 private:
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void remember_peer() {
    boost::system::error_code ec;
    auto endpoint = lowest().socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void read(bool first) {
    // An idle keep-alive connection keeps no body-sized buffer (see
    // on_header).
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    parser_.emplace();
    parser_->body_limit(core_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(core_->options.header_limit));
    // The first request of a connection gets read_timeout; between keep-alive
    // requests the connection may idle up to idle_timeout, but once bytes of
    // the next request arrive, the whole request must still come in promptly.
    lowest().expires_after(first ? core_->options.read_timeout : core_->options.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session<Stream>::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    // From its first complete header a request is in flight: a graceful
    // shutdown waits for its body to arrive and its answer to go out.
    core_->in_flight.fetch_add(1);
    counted_ = true;
    lowest().expires_after(core_->options.read_timeout);
    // Each read takes at most the buffer's free capacity (at least 512
    // bytes): without room, a 1 MB body took ~2000 reads, each a trip
    // through the reactor, the strand and the timer.
    if (!parser_->is_done()) buffer_.reserve(buffer_.size() + kBodyReadBytes);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session<Stream>::on_read, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return reject(Error(ErrorCode::payload_too_large,
                          "request body exceeds the limit of " +
                              std::to_string(core_->options.body_limit) + " bytes",
                          {{"limit_bytes", core_->options.body_limit}}));
    }
    if (ec == bhttp::error::header_limit) {
      return reject(Error(ErrorCode::payload_too_large,
                          "request headers exceed the limit of " +
                              std::to_string(core_->options.header_limit) + " bytes",
                          {{"limit_bytes", core_->options.header_limit}}));
    }
    if (ec.category() == beast::error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return reject(Error(ErrorCode::invalid_input, "malformed HTTP request: " + ec.message()));
    }
    close();  // peer closed, timed out, or the socket failed: nothing to answer
  }

  void finish_request() {
    if (counted_) core_->in_flight.fetch_sub(1);
    counted_ = false;
  }

  // Answers an unreadable request and closes: the stream position is lost.
  void reject(const Error& error) {
    Response response = Response::from_error(error, new_request_id());
    write(std::move(response), false, 11, false);
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    lowest().expires_never();
    auto request = std::make_shared<Request>();
    request->raw = parser_->release();
    request->remote_address = remote_;
    request->received_at = std::chrono::steady_clock::now();
    bool keep_alive = request->raw.keep_alive();
    unsigned version = request->raw.version();
    bool head = request->raw.method() == bhttp::verb::head;
    auto self = shared_from_this();
    bool queued = core_->workers.try_submit([self, request, keep_alive, version, head] {
      Response response;
      try {
        parse_target(*request);
        response = self->core_->handler(*request);
      } catch (const Error& e) {
        response = Response::from_error(e, request->request_id);
      } catch (const std::exception& e) {
        log::error("unhandled exception in handler", {{"error", e.what()}});
        response =
            Response::from_error(Error(ErrorCode::internal, "internal error"), request->request_id);
      }
      if (response.stream && !head) {
        if (self->stream_response(response, *request, keep_alive, version)) return;
      }
      net::post(self->stream_.get_executor(),
                [self, response = std::move(response), keep_alive, version, head]() mutable {
                  self->write(std::move(response), keep_alive, version, head);
                });
    });
    if (!queued) {
      auto response =
          Response::from_error(Error(ErrorCode::unavailable, "server is at capacity; retry shortly",
                                     {{"retry_after_seconds", 1}}),
                               std::string(request->raw["X-Request-Id"]));
      write(std::move(response), keep_alive, version, head);
    }
  }

  // Runs on the worker thread: no other operation is pending on this
  // connection while its handler runs, so the worker may write the socket
  // synchronously. Returns true when the response was sent (or the
  // connection cut); false when the stream failed before its first byte and
  // `response` now holds the error to send the normal way.
  bool stream_response(Response& response, const Request& request, bool keep_alive,
                       unsigned version) {
    auto& socket = stream_;
    bool keep = keep_alive && !core_->draining.load();
    bool started = false;
    boost::system::error_code ec;
    bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(response.status), version};
    head.set(bhttp::field::server, "duckmesh");
    head.set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) head.insert(name, value);
    head.keep_alive(keep);
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    ChunkWriter write_chunk = [&](std::string_view data) {
      if (!started) {
        bhttp::write_header(socket, serializer, ec);
        if (ec) throw Error(ErrorCode::unavailable, "client went away: " + ec.message());
        started = true;
      }
      if (data.empty()) return;
      net::write(socket, bhttp::make_chunk(net::const_buffer(data.data(), data.size())), ec);
      if (ec) throw Error(ErrorCode::unavailable, "client went away: " + ec.message());
    };
    try {
      response.stream(write_chunk);
      write_chunk({});  // headers even for an empty body
      net::write(socket, bhttp::make_chunk_last(), ec);
    } catch (const std::exception& e) {
      if (!started) {
        const auto* error = dynamic_cast<const Error*>(&e);
        response = Response::from_error(
            error ? *error : Error(ErrorCode::internal, "internal error"), request.request_id);
        if (!error) log::error("streamed response failed", {{"error", e.what()}});
        return false;
      }
      log::warn("streamed response cut after it started", {{"error", e.what()}});
      ec = net::error::operation_aborted;
    }
    auto self = shared_from_this();
    net::post(stream_.get_executor(), [self, keep, failed = bool(ec)] {
      if (failed || !keep) return self->close();
      self->finish_request();
      self->read(false);
    });
    return true;
  }

  void write(Response response, bool keep_alive, unsigned version, bool head) {
    auto message = std::make_shared<bhttp::response<bhttp::string_body>>();
    message->version(version);
    message->result(response.status);
    message->set(bhttp::field::server, "duckmesh");
    message->set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) message->insert(name, value);
    bool keep = keep_alive && !core_->draining.load();
    message->keep_alive(keep);
    message->body() = std::move(response.body);
    message->prepare_payload();
    if (head) message->body().clear();  // Content-Length stays that of the GET body
    lowest().expires_after(core_->options.read_timeout);
    bhttp::async_write(
        stream_, *message,
        [self = shared_from_this(), message, keep](beast::error_code ec, std::size_t) {
          self->finish_request();
          if (ec || !keep) return self->close();
          self->read(false);
        });
  }

  void close() {
    finish_request();
    boost::system::error_code ec;
    // A TLS connection is cut without close_notify: every response carries
    // its length or its last chunk, so a client cannot mistake a cut one.
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().close();
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<RequestBody>> parser_;
  Server::Core* core_;  // outlives every session (see Core)
  std::string remote_;
  bool counted_ = false;  // this connection's current request counts in in_flight
};

}  // namespace

void Server::Core::accept() {
  acceptor.async_accept(
      net::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
          if (ec == net::error::operation_aborted || !acceptor.is_open())
            return;  // closed by stop()
          log::warn("accept failed", {{"error", ec.message()}});
        } else {
          // Answers go out in several writes (headers, chunks of a streamed
          // result): without TCP_NODELAY a later small write waits for the
          // client's delayed ACK of the first, some 40 ms.
          boost::system::error_code option_ec;
          socket.set_option(tcp::no_delay(true), option_ec);
          if (tls) {
            std::make_shared<Session<TlsStream>>(std::move(socket), this)->start();
          } else {
            std::make_shared<Session<PlainStream>>(std::move(socket), this)->start();
          }
        }
        accept();
      });
}

Server::Server(ServerOptions options, Handler handler)
    : core_(std::make_unique<Core>(std::move(options), std::move(handler))) {}

Server::~Server() {
  stop(std::chrono::milliseconds(0));
}

void Server::start() {
  if (!core_->signals) {
    core_->signals = std::make_unique<net::signal_set>(core_->signals_ioc, SIGINT, SIGTERM);
  }
  boost::system::error_code ec;
  auto address = net::ip::make_address(core_->options.host, ec);
  if (ec) {
    throw Error(ErrorCode::invalid_input,
                "listen host '" + core_->options.host + "' is not an IP address: " + ec.message());
  }
  tcp::endpoint endpoint(address, core_->options.port);
  auto& acceptor = core_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw Error(ErrorCode::unavailable, "cannot listen on " + core_->options.host + ":" +
                                            std::to_string(core_->options.port) + ": " +
                                            ec.message());
  }
  core_->accept();
  for (std::size_t i = 0; i < core_->options.io_threads; ++i) {
    io_threads_.emplace_back([core = core_.get()] {
      name_this_thread("dm-http");
      core->ioc.run();
    });
  }
}

std::uint16_t Server::port() const {
  boost::system::error_code ec;
  auto endpoint = core_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

std::size_t Server::in_flight() const {
  return core_->in_flight.load();
}

bool Server::stop(std::chrono::milliseconds grace) {
  if (stopped_) return true;
  stopped_ = true;
  core_->draining = true;
  std::promise<void> closed;
  net::post(core_->ioc, [core = core_.get(), &closed] {
    boost::system::error_code ec;
    core->acceptor.close(ec);
    closed.set_value();
  });
  if (!io_threads_.empty()) closed.get_future().wait();
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (core_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool drained = core_->in_flight.load() == 0;
  core_->keep_running.reset();
  core_->ioc.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  return drained;
}

bool Server::run_until_signal(std::chrono::milliseconds grace) {
  if (!core_->signals) {
    core_->signals = std::make_unique<net::signal_set>(core_->signals_ioc, SIGINT, SIGTERM);
  }
  int received = 0;
  core_->signals->async_wait(
      [&](const boost::system::error_code&, int signal) { received = signal; });
  core_->signals_ioc.run();
  log::info(
      "shutting down",
      {{"signal", received}, {"in_flight", core_->in_flight.load()}, {"grace_ms", grace.count()}});
  bool drained = stop(grace);
  log::info("stopped", {{"drained", drained}});
  return drained;
}

}  // namespace duckmesh::http
