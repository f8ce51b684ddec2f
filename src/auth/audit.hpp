// AuditLog: administrative actions, durable in the catalog and echoed as a
// JSON log line ("audit").
//
// record() never throws: a catalog that cannot take the entry is logged at
// error level, and the action's own outcome is what the caller sees (the
// action already happened or failed; refusing to answer would hide that).
// Safe from many threads.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog_repo.hpp"

namespace duckmesh::auth {

class AuditLog {
 public:
  explicit AuditLog(catalog::CatalogRepo& catalog) : catalog_(catalog) {}
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Stamps the entry with the current time when at_unix_us is 0.
  void record(catalog::AuditEntry entry);

  // Newest first; `product` empty: every product and platform action.
  std::vector<catalog::AuditEntry> list(const std::string& product, std::int64_t since_unix_us,
                                        std::size_t limit) const;

 private:
  catalog::CatalogRepo& catalog_;
};

boost::json::object to_json(const catalog::AuditEntry& entry);

}  // namespace duckmesh::auth
