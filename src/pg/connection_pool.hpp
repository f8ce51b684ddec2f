// A small pool of libpqxx connections to one PostgreSQL database (the
// catalog's, the ingest bus's).
//
// Connections are opened lazily up to `size`; checkout() hands one out as a
// Lease (RAII: returned to the pool when the lease ends). Before handing out a
// connection that sat idle longer than `health_check_idle_ms`, the pool runs
// `SELECT 1` on it and replaces it with a fresh one when that fails, so a
// PostgreSQL restart costs the caller nothing but a reconnect. A caller that
// sees the connection break mid-use calls Lease::discard(); the pool then
// forgets it and opens a new one on a later checkout, and checks every
// connection that was idle at that moment before handing it out again.
//
// Every connection runs with statement_timeout = statement_timeout_ms (0: no
// limit), set through libpqxx so it survives libpqxx's own reconnects too.
//
// Errors: checkout() throws duckmesh::Error unavailable when no connection is
// free within checkout_timeout_ms or the server cannot be reached (the
// message names the server, never the password).
//
// Thread safety: checkout() may be called from any thread; a Lease and its
// connection belong to one thread at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace duckmesh::pg {

struct PoolOptions {
  std::string url;  // libpq connection string or postgresql:// URI
  // Who uses the pool, for messages ("PostgreSQL catalog"), and the prefix of
  // the settings that configure it ("catalog": catalog_url, catalog_pool_size).
  std::string subject = "PostgreSQL catalog";
  std::string setting_prefix = "catalog";
  std::size_t size = 4;
  int statement_timeout_ms = 30'000;
  int checkout_timeout_ms = 30'000;
  int health_check_idle_ms = 1'000;
};

// The connection string with any password replaced by ***, for messages.
std::string redact_connection_string(const std::string& url);

class ConnectionPool {
  struct Slot;

 public:
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Slot> slot);
    ~Lease();
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    pqxx::connection_base& connection();
    // The connection is broken: the pool closes it instead of reusing it.
    void discard() noexcept { discarded_ = true; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Slot> slot_;
    bool discarded_ = false;
  };

  // Opens the first connection at once, so a wrong URL fails here
  // (unavailable) rather than at the first catalog call; invalid_input for a
  // size of 0 or negative timeouts.
  explicit ConnectionPool(PoolOptions options);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  Lease checkout();

  const PoolOptions& options() const { return options_; }
  // Connections opened so far, replacements included (tests watch reconnects).
  std::size_t connections_opened() const;

 private:
  std::unique_ptr<Slot> open_slot();
  void give_back(std::unique_ptr<Slot> slot, bool discarded) noexcept;

  const PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Slot>> idle_;
  std::size_t checked_out_ = 0;
  std::size_t opened_ = 0;
  // When a lease last reported a broken connection; idle connections
  // returned before then are checked before reuse.
  std::chrono::steady_clock::time_point last_breakage_{};
};

}  // namespace duckmesh::pg
