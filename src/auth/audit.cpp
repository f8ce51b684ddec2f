#include "auth/audit.hpp"

#include <boost/json/parse.hpp>
#include <chrono>

#include "common/error.hpp"
#include "obs/log.hpp"

namespace duckmesh::auth {

void AuditLog::record(catalog::AuditEntry entry) {
  if (entry.at_unix_us == 0) {
    entry.at_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  }
  try {
    entry.id = catalog_.append_audit(entry);
    log::info("audit", to_json(entry));
  } catch (const std::exception& e) {
    auto fields = to_json(entry);
    fields["error"] = e.what();
    log::error("audit entry could not be stored", std::move(fields));
  }
}

std::vector<catalog::AuditEntry> AuditLog::list(const std::string& product,
                                                std::int64_t since_unix_us,
                                                std::size_t limit) const {
  return catalog_.list_audit(product, since_unix_us, limit);
}

boost::json::object to_json(const catalog::AuditEntry& entry) {
  boost::system::error_code ec;
  auto details = boost::json::parse(entry.details_json, ec);
  if (ec) details = boost::json::object{};
  return {{"id", entry.id},
          {"at_unix_us", entry.at_unix_us},
          {"actor", entry.actor},
          {"action", entry.action},
          {"product",
           entry.product.empty() ? boost::json::value(nullptr) : boost::json::value(entry.product)},
          {"target", entry.target},
          {"outcome", entry.outcome},
          {"details", std::move(details)}};
}

}  // namespace duckmesh::auth
