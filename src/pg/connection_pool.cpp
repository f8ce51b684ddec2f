#include "pg/connection_pool.hpp"

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "common/error.hpp"

namespace duckmesh::pg {

struct ConnectionPool::Slot {
  std::unique_ptr<pqxx::connection> connection;
  std::chrono::steady_clock::time_point last_used;
};

namespace {

// Replaces the value of every `password` keyword (key=value form, quoted or
// not) and of the `password` query parameter (URI form).
std::string redact_keyword_password(std::string text) {
  std::size_t at = 0;
  while ((at = text.find("password", at)) != std::string::npos) {
    std::size_t value = at + 8;
    while (value < text.size() && text[value] == ' ') ++value;
    if (value >= text.size() || text[value] != '=') {
      at = value;
      continue;
    }
    ++value;
    while (value < text.size() && text[value] == ' ') ++value;
    std::size_t end = value;
    if (end < text.size() && text[end] == '\'') {
      ++end;
      while (end < text.size() && text[end] != '\'') end += text[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && text[end] != ' ' && text[end] != '&') ++end;
    }
    text.replace(value, end - value, "***");
    at = value + 3;
  }
  return text;
}

}  // namespace

std::string redact_connection_string(const std::string& url) {
  std::string text = url;
  const auto scheme = text.find("://");
  if (scheme != std::string::npos) {
    const auto host_start = scheme + 3;
    const auto at = text.find('@', host_start);
    const auto slash = text.find('/', host_start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = text.find(':', host_start);
      if (colon != std::string::npos && colon < at) text.replace(colon + 1, at - colon - 1, "***");
    }
  }
  return redact_keyword_password(std::move(text));
}

ConnectionPool::Lease::Lease(ConnectionPool& pool, std::unique_ptr<Slot> slot)
    : pool_(&pool), slot_(std::move(slot)) {}

ConnectionPool::Lease::~Lease() {
  if (slot_) pool_->give_back(std::move(slot_), discarded_);
}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), slot_(std::move(other.slot_)), discarded_(other.discarded_) {}

pqxx::connection_base& ConnectionPool::Lease::connection() {
  return *slot_->connection;
}

ConnectionPool::ConnectionPool(PoolOptions options) : options_(std::move(options)) {
  const std::string& prefix = options_.setting_prefix;
  auto invalid = [](const std::string& message, const std::string& field) {
    return Error(ErrorCode::invalid_input, message, {{"field", field}});
  };
  if (options_.url.empty()) {
    throw invalid("the " + options_.subject + " needs a connection URL (" + prefix + "_url)",
                  prefix + "_url");
  }
  if (options_.size == 0) {
    throw invalid("the " + options_.subject + " pool needs at least one connection",
                  prefix + "_pool_size");
  }
  if (options_.statement_timeout_ms < 0 || options_.checkout_timeout_ms < 0 ||
      options_.health_check_idle_ms < 0) {
    throw invalid(options_.subject + " timeouts must not be negative",
                  prefix + "_statement_timeout_ms");
  }
  auto first = open_slot();
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(first));
}

ConnectionPool::~ConnectionPool() = default;

std::size_t ConnectionPool::connections_opened() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::unique_ptr<ConnectionPool::Slot> ConnectionPool::open_slot() {
  auto slot = std::make_unique<Slot>();
  try {
    slot->connection = std::make_unique<pqxx::connection>(options_.url);
    // Through set_variable, so libpqxx re-applies it if it reconnects itself.
    slot->connection->set_variable("statement_timeout",
                                   std::to_string(options_.statement_timeout_ms));
  } catch (const std::exception& e) {
    throw Error(ErrorCode::unavailable,
                "cannot connect to the " + options_.subject + " at '" +
                    redact_connection_string(options_.url) + "': " + e.what(),
                {{options_.setting_prefix + "_url", redact_connection_string(options_.url)}});
  }
  slot->last_used = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  ++opened_;
  return slot;
}

ConnectionPool::Lease ConnectionPool::checkout() {
  std::unique_ptr<Slot> slot;
  {
    std::unique_lock lock(mutex_);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.checkout_timeout_ms);
    const bool ready = returned_.wait_until(lock, deadline, [&] {
      return !idle_.empty() || checked_out_ + idle_.size() < options_.size;
    });
    if (!ready) {
      throw Error(ErrorCode::unavailable,
                  "all " + std::to_string(options_.size) + " " + options_.subject +
                      " connections stayed busy for " +
                      std::to_string(options_.checkout_timeout_ms) + " ms; raise " +
                      options_.setting_prefix + "_pool_size or lower the load",
                  {{options_.setting_prefix + "_pool_size", options_.size}});
    }
    ++checked_out_;
    if (!idle_.empty()) {
      slot = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  // From here the checked-out count includes this caller: give the place back
  // if opening or checking the connection fails.
  try {
    if (slot) {
      const bool idle_long = std::chrono::steady_clock::now() - slot->last_used >=
                             std::chrono::milliseconds(options_.health_check_idle_ms);
      bool suspect = false;
      {
        std::lock_guard lock(mutex_);
        suspect = slot->last_used <= last_breakage_;
      }
      if (!slot->connection->is_open() || idle_long || suspect) {
        try {
          pqxx::nontransaction ping(*slot->connection);
          ping.exec("SELECT 1");
        } catch (const std::exception&) {
          slot.reset();  // broken (e.g. the server restarted): replace it
        }
      }
    }
    if (!slot) slot = open_slot();
  } catch (...) {
    std::lock_guard lock(mutex_);
    --checked_out_;
    returned_.notify_one();
    throw;
  }
  return Lease(*this, std::move(slot));
}

void ConnectionPool::give_back(std::unique_ptr<Slot> slot, bool discarded) noexcept {
  std::lock_guard lock(mutex_);
  --checked_out_;
  if (discarded) {
    // What broke this connection (a server restart) likely broke the idle
    // ones too: check each before its next use.
    last_breakage_ = std::chrono::steady_clock::now();
  } else {
    slot->last_used = std::chrono::steady_clock::now();
    idle_.push_back(std::move(slot));
  }
  returned_.notify_one();
}

}  // namespace duckmesh::pg
