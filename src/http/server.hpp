// The HTTP server: Boost.Beast over Asio.
//
// I/O threads only parse and write; every request is handed to a bounded
// WorkerPool that runs the handler chain, so a slow query never stalls the
// I/O threads. When the pool's queue is full the server answers 503 at once.
//
// Slow clients: reading one request (headers and body) must finish within
// read_timeout, and a keep-alive connection idle past idle_timeout is closed.
// Bodies over body_limit answer 413 before the body is read.
//
// TLS: with a certificate and key in the options, the server speaks only
// TLS on its port; the handshake counts against read_timeout.
//
// Shutdown: stop() closes the listener, lets in-flight requests finish (their
// responses say Connection: close) up to the grace deadline, then stops.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/worker_pool.hpp"
#include "http/router.hpp"

namespace duckmesh::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Server::port())
  std::size_t io_threads = 2;
  std::size_t worker_threads = 4;
  std::size_t worker_queue_limit = 1024;
  std::size_t body_limit = 16 * 1024 * 1024;
  std::size_t header_limit = 64 * 1024;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // PEM files; when set, every connection speaks TLS (1.2 or newer) and
  // the constructor refuses files it cannot load or a key that does not
  // match (invalid_input).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O threads. Throws unavailable if it cannot bind.
  void start();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  // Stops accepting, waits for in-flight requests up to `grace`, then stops
  // every thread. Returns true if everything drained in time. Idempotent.
  bool stop(std::chrono::milliseconds grace);
  // Blocks until SIGINT or SIGTERM, then stop(grace). Returns stop()'s result.
  bool run_until_signal(std::chrono::milliseconds grace);

  std::size_t in_flight() const;

  struct Core;

 private:
  std::unique_ptr<Core> core_;
  std::vector<std::thread> io_threads_;
  bool stopped_ = false;
};

}  // namespace duckmesh::http
