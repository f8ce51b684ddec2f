// Snapshot expiry and garbage collection of data files.
//
// Expiry (expire_snapshots) forgets a product's snapshots past retention:
// a snapshot is expired when it is older than max_age AND not among the
// newest keep_at_least. Files that no kept snapshot lists become
// "unreferenced" at that moment (catalog::CatalogRepo::expire_snapshots).
//
// Garbage collection (collect_garbage) deletes:
//   - unreferenced files whose grace period (counted from expiry) is over,
//     then forgets their catalog rows; this also drops the data of dropped
//     tables, whose files the drop snapshot retired;
//   - orphans: objects under products/ that the catalog has never recorded
//     (a writer crashed between writing a file and publishing it), once
//     their modification time is older than the grace period, so a write in
//     progress is never mistaken for an orphan;
//   - scratch files (store scratch directory) older than the grace period.
// The grace period lets a reader that resolved a snapshot just before it
// expired finish reading its files. With dry_run nothing is deleted; the
// report lists what would be, with sizes.
//
// Safe to run from several threads or processes at once, and while ingest,
// compaction and queries run: the store is listed before the catalog is read,
// so a file published meanwhile is known by the time it is judged.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog_repo.hpp"
#include "storage/object_store.hpp"

namespace duckmesh::maintenance {

struct RetentionOptions {
  std::chrono::seconds max_age{7 * 24 * 3600};
  std::size_t keep_at_least = 10;
};

struct ProductExpiry {
  std::string product;
  catalog::ExpiryResult result;
};

// Expires snapshots of `product`, or of every product when empty.
std::vector<ProductExpiry> expire_snapshots(catalog::CatalogRepo& catalog,
                                            const RetentionOptions& options,
                                            const std::string& product, bool dry_run,
                                            std::int64_t now_unix_us);

struct GcOptions {
  std::chrono::seconds grace{3600};
  bool dry_run = false;
};

struct GcItem {
  std::string key;
  std::uint64_t bytes = 0;
  std::string reason;  // "unreferenced", "orphan", "scratch"
};

struct GcReport {
  std::vector<GcItem> items;  // deleted (or, on a dry run, that would be)
  std::uint64_t bytes = 0;    // their total size
  bool dry_run = false;
};

GcReport collect_garbage(catalog::CatalogRepo& catalog, storage::ObjectStore& store,
                         const GcOptions& options, std::int64_t now_unix_us);

std::int64_t now_unix_us();

}  // namespace duckmesh::maintenance
