#include "query/sandbox.hpp"

#include <stdlib.h>

#include <system_error>
#include <utility>

#include "common/error.hpp"
#include "duck/sql_literal.hpp"

namespace duckmesh::query {
namespace fs = std::filesystem;

namespace {

// An absolute, normalized directory path. DuckDB matches the allow-list by
// prefix, so a trailing separator keeps "/data/p1" from admitting
// "/data/p10".
std::string directory_entry(const fs::path& dir, std::string_view what) {
  if (!dir.is_absolute()) {
    throw Error(ErrorCode::invalid_input,
                std::string(what) + " must be an absolute path: '" + dir.string() + "'",
                {{"path", dir.string()}});
  }
  std::string text = dir.lexically_normal().string();
  if (text.empty() || text.back() != '/') text.push_back('/');
  return text;
}

// A fresh directory under `parent`, made with mkdtemp so that concurrent
// sandboxes never share one.
fs::path make_private_dir(const fs::path& parent) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    throw Error(ErrorCode::internal, "cannot create the query scratch directory '" +
                                         parent.string() + "': " + ec.message());
  }
  std::string pattern = (parent / "sandbox-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::error_code err(errno, std::generic_category());
    throw Error(ErrorCode::internal, "cannot create a sandbox directory under '" + parent.string() +
                                         "': " + err.message());
  }
  return fs::path(pattern);
}

}  // namespace

Sandbox::Sandbox(std::vector<fs::path> readable_dirs, fs::path scratch_dir, SandboxLimits limits) {
  if (limits.threads < 1) {
    throw Error(ErrorCode::invalid_input, "a sandbox needs at least one thread",
                {{"threads", limits.threads}});
  }
  if (limits.memory_limit.empty()) {
    throw Error(ErrorCode::invalid_input, "a sandbox needs a memory limit such as \"1GB\"");
  }
  std::vector<std::string> allowed;
  for (const auto& dir : readable_dirs) {
    allowed.push_back(directory_entry(dir, "a readable directory"));
    readable_dirs_.emplace_back(allowed.back());
  }
  directory_entry(scratch_dir, "the scratch directory");
  private_dir_ = make_private_dir(scratch_dir.lexically_normal());
  allowed.push_back(directory_entry(private_dir_, "the private directory"));

  try {
    duck::DatabaseOptions options;
    options.threads = limits.threads;
    options.memory_limit = limits.memory_limit;
    options.temp_directory = private_dir_.string();
    options.allow_extensions_autoload = false;
    database_ = std::make_unique<duck::Database>("", options);
    connection_ = std::make_unique<duck::Connection>(*database_);

    std::string list = "[";
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      if (i > 0) list += ", ";
      list += duck::quote_literal(allowed[i]);
    }
    list += "]";
    // Order matters: DuckDB accepts allowed_directories only while external
    // access is on, and nothing at all once the configuration is locked.
    // Given at open, max_temp_directory_size shows in duckdb_settings()
    // but DuckDB 1.5.6 does not enforce it; set by SQL, it is enforced.
    if (!limits.max_temp_directory_size.empty()) {
      connection_->execute("SET max_temp_directory_size = " +
                           duck::quote_literal(limits.max_temp_directory_size));
    }
    connection_->execute("SET allowed_directories = " + list);
    connection_->execute("SET enable_external_access = false");
    connection_->execute("SET lock_configuration = true");
  } catch (...) {
    connection_.reset();
    database_.reset();
    std::error_code ignored;
    fs::remove_all(private_dir_, ignored);
    throw;
  }
}

Sandbox::~Sandbox() {
  connection_.reset();
  database_.reset();
  std::error_code ignored;
  fs::remove_all(private_dir_, ignored);
}

void Sandbox::reset_session() {
  // The old connection goes first: its temporary objects die with it.
  connection_.reset();
  connection_ = std::make_unique<duck::Connection>(*database_);
}

// ---- SandboxPool ----

SandboxPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), sandbox_(std::move(other.sandbox_)) {}

SandboxPool::Lease& SandboxPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    sandbox_ = std::move(other.sandbox_);
  }
  return *this;
}

SandboxPool::Lease::~Lease() {
  release();
}

void SandboxPool::Lease::release() noexcept {
  if (pool_ != nullptr && sandbox_) pool_->give_back(std::move(sandbox_));
  pool_ = nullptr;
}

void SandboxPool::Lease::discard() noexcept {
  if (pool_ != nullptr && sandbox_) {
    sandbox_.reset();
    pool_->forget_one();
  }
  pool_ = nullptr;
}

SandboxPool::SandboxPool(std::vector<fs::path> readable_dirs, fs::path scratch_dir,
                         SandboxLimits limits, std::size_t max_sandboxes)
    : readable_dirs_(std::move(readable_dirs)),
      scratch_dir_(std::move(scratch_dir)),
      limits_(std::move(limits)),
      max_sandboxes_(max_sandboxes) {
  if (max_sandboxes_ == 0) {
    throw Error(ErrorCode::invalid_input, "a sandbox pool needs room for at least one sandbox");
  }
}

SandboxPool::~SandboxPool() = default;

SandboxPool::Lease SandboxPool::acquire(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (idle_.empty() && open_ >= max_sandboxes_) {
    ++waiting_;
    auto status = released_.wait_until(lock, deadline);
    --waiting_;
    if (status == std::cv_status::timeout && idle_.empty() && open_ >= max_sandboxes_) {
      throw Error(ErrorCode::unavailable,
                  "all " + std::to_string(max_sandboxes_) +
                      " query sandboxes of this product are busy; retry shortly",
                  {{"max_sandboxes", max_sandboxes_}});
    }
  }
  if (!idle_.empty()) {
    std::unique_ptr<Sandbox> sandbox = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(sandbox));
  }
  // Open outside the lock: it takes milliseconds.
  ++open_;
  lock.unlock();
  try {
    return Lease(this, std::make_unique<Sandbox>(readable_dirs_, scratch_dir_, limits_));
  } catch (...) {
    forget_one();
    throw;
  }
}

void SandboxPool::give_back(std::unique_ptr<Sandbox> sandbox) noexcept {
  try {
    sandbox->reset_session();
  } catch (...) {
    // A sandbox whose database refuses a new connection is of no further use.
    sandbox.reset();
    forget_one();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(sandbox));
  }
  released_.notify_one();
}

void SandboxPool::forget_one() noexcept {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  released_.notify_one();
}

std::size_t SandboxPool::open_count() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::size_t SandboxPool::idle_count() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::size_t SandboxPool::waiting_count() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

}  // namespace duckmesh::query
