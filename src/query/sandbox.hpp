// Sandbox: a DuckDB instance for running untrusted SQL over one set of
// directories (a product's data files).
//
// What a sandbox may touch:
//  * read files under `readable_dirs` and under its own private directory,
//    a fresh subdirectory of `scratch_dir` that it creates and removes (the
//    service writes Parquet exports there, DuckDB spills there); nothing of
//    another sandbox, even one sharing `scratch_dir`;
//  * no network, no other file, no extension loading or installing, and
//    no change of configuration: after setting `allowed_directories` the
//    sandbox turns `enable_external_access` off and then sets
//    `lock_configuration` (DuckDB refuses `allowed_directories` once
//    external access is off, and the lock keeps SQL from undoing either).
// DuckDB's directory allow-list admits writes as well as reads, so a
// sandbox must only run statements that passed check_read_only
// (query/statement_check.hpp); run_query (query/executor.hpp) does that.
//
// Cost: opening and closing one takes about 7 ms (p50, bench_query on the
// 2-core development machine), against 3 us for a SandboxPool lease, which
// is why the pool keeps them for reuse.
//
// Thread-safety: connection() is used by one thread at a time; interrupt()
// may be called from any thread while that thread runs a statement.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "duck/connection.hpp"
#include "duck/database.hpp"

namespace duckmesh::query {

struct SandboxLimits {
  // DuckDB's memory_limit; operators spill to the private directory beyond it.
  std::string memory_limit = "1GB";
  // DuckDB worker threads for this instance.
  int threads = 2;
  // Bound on what spilling may write to disk; a query that needs more
  // fails with Error(unavailable) (DuckDB's "Out of Memory").
  std::string max_temp_directory_size = "8GB";
};

class Sandbox {
 public:
  // Opens the sandbox. `readable_dirs` and `scratch_dir` must be absolute;
  // `scratch_dir` is created when missing. Throws Error(invalid_input) for
  // a relative path or bad limits, and the DuckDB wrapper's Error when
  // DuckDB refuses a setting.
  Sandbox(std::vector<std::filesystem::path> readable_dirs, std::filesystem::path scratch_dir,
          SandboxLimits limits = {});
  // Closes DuckDB and removes the private directory with what is in it.
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  Sandbox(Sandbox&&) = delete;
  Sandbox& operator=(Sandbox&&) = delete;

  // Where statements run. The reference stays valid until reset_session().
  duck::Connection& connection() { return *connection_; }

  // Stops the statement running on connection(), which then fails with
  // Error(timeout). Has no effect when nothing runs (see
  // duck::Connection::interrupt: a caller enforcing a deadline repeats it).
  void interrupt() noexcept { connection_->interrupt(); }

  // This sandbox's own directory under scratch_dir, readable and writable
  // by it alone.
  const std::filesystem::path& private_dir() const { return private_dir_; }
  const std::vector<std::filesystem::path>& readable_dirs() const { return readable_dirs_; }

  // Replaces the connection by a fresh one, so that nothing a previous
  // user left in the session (temporary views, prepared statements,
  // session variables) is seen by the next. The database, its settings
  // and its file caches stay. REQUIRES: no statement runs and no other
  // thread may call interrupt() meanwhile.
  void reset_session();

 private:
  std::vector<std::filesystem::path> readable_dirs_;
  std::filesystem::path private_dir_;
  std::unique_ptr<duck::Database> database_;
  std::unique_ptr<duck::Connection> connection_;
};

// A bounded set of Sandboxes over one set of readable directories, reused
// across queries because opening one costs milliseconds.
//
// A sandbox is handed out by acquire() as a Lease and comes back when the
// Lease is destroyed, with a fresh session (Sandbox::reset_session), so
// the temporary views one query bound are gone for the next. Sandboxes are
// opened on demand up to `max_sandboxes`; beyond that acquire() waits for
// a release.
//
// Thread-safety: all members may be called from any thread. The pool must
// outlive its Leases.
class SandboxPool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    // Returns the sandbox to the pool (see discard()).
    ~Lease();

    Sandbox& operator*() const { return *sandbox_; }
    Sandbox* operator->() const { return sandbox_.get(); }

    // Closes the sandbox instead of returning it, e.g. after DuckDB
    // reported that the database can no longer be used.
    void discard() noexcept;

   private:
    friend class SandboxPool;
    Lease(SandboxPool* pool, std::unique_ptr<Sandbox> sandbox)
        : pool_(pool), sandbox_(std::move(sandbox)) {}
    void release() noexcept;

    SandboxPool* pool_ = nullptr;
    std::unique_ptr<Sandbox> sandbox_;
  };

  // Throws Error(invalid_input) when max_sandboxes is 0; paths and limits
  // are checked by the first Sandbox opened.
  SandboxPool(std::vector<std::filesystem::path> readable_dirs, std::filesystem::path scratch_dir,
              SandboxLimits limits = {}, std::size_t max_sandboxes = 4);
  ~SandboxPool();
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  // An idle sandbox, a new one while fewer than max_sandboxes exist, or
  // the first one released within `wait`. Throws Error(unavailable) when
  // none came within `wait`, and whatever opening a Sandbox throws.
  Lease acquire(std::chrono::milliseconds wait = std::chrono::seconds(5));

  // Sandboxes open (idle and leased) and idle ones, and queries waiting in
  // acquire() for one, for metrics and tests.
  std::size_t open_count() const;
  std::size_t idle_count() const;
  std::size_t waiting_count() const;

 private:
  void give_back(std::unique_ptr<Sandbox> sandbox) noexcept;
  void forget_one() noexcept;

  const std::vector<std::filesystem::path> readable_dirs_;
  const std::filesystem::path scratch_dir_;
  const SandboxLimits limits_;
  const std::size_t max_sandboxes_;

  mutable std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Sandbox>> idle_;
  std::size_t open_ = 0;  // idle + leased + being opened
  std::size_t waiting_ = 0;
};

}  // namespace duckmesh::query
