// Per-product quotas on ingest: events accepted per UTC day and bytes stored.
//
// Both are checked before an event is published, so a product over its
// quota gets a clear quota_exceeded (429) and nothing of the request is
// accepted: the quota is never overshot by part of a batch. Duplicates
// (events already accepted under the same idempotency key) are not counted.
//
// Events per day: counted per product and UTC day. The count starts, the
// first time a node sees a product on a day, from the events of the
// product's ingest snapshots committed since midnight, and then grows with
// every event this node accepts. Nodes do not share their counts: with N API
// nodes a product can accept up to N times its quota in a day (documented in
// the operations guide). Events accepted but not yet committed when a node
// restarts are counted again only once they commit.
//
// Stored bytes: the size of the product's live data files at its latest
// snapshot, read from the catalog at most every `storage_refresh`; a product
// at or past its quota accepts nothing until compaction, expiry or a dropped
// table brings it under.
//
// Thread-safety: every method may be called from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "catalog/catalog_repo.hpp"

namespace duckmesh::ingest {

struct QuotaLimits {
  std::uint64_t events_per_day = 0;  // 0: no limit
  std::uint64_t stored_bytes = 0;    // 0: no limit

  bool any() const { return events_per_day > 0 || stored_bytes > 0; }
};

struct QuotaUsage {
  QuotaLimits limits;
  std::uint64_t events_today = 0;
  std::uint64_t stored_bytes = 0;
  std::int64_t day_resets_at_unix_s = 0;  // next UTC midnight
};

class Quotas {
 public:
  using Clock = std::function<std::int64_t()>;  // wall clock, microseconds since the epoch

  // `per_product` overrides `defaults` for the products it names.
  Quotas(const catalog::CatalogRepo& catalog, QuotaLimits defaults,
         std::map<std::string, QuotaLimits> per_product = {},
         std::chrono::milliseconds storage_refresh = std::chrono::seconds(10), Clock now = {});
  Quotas(const Quotas&) = delete;
  Quotas& operator=(const Quotas&) = delete;

  // Counts `events` against `product`'s quotas for today, or throws
  // Error(quota_exceeded) naming the quota, its limit, what is used, and
  // (for the daily quota) when it resets, with retry_after_seconds.
  void reserve(const std::string& product, std::uint64_t events);
  // Gives back events reserve() counted that were then not published.
  void release(const std::string& product, std::uint64_t events);

  QuotaLimits limits_of(const std::string& product) const;
  QuotaUsage usage(const std::string& product);

 private:
  struct ProductCount {
    std::int64_t day = -1;  // UTC day number the count is for
    std::uint64_t events = 0;
    std::uint64_t stored_bytes = 0;
    std::int64_t stored_read_at_us = 0;  // 0: never read
  };
  // REQUIRES mutex_ held. Brings `count` to today and refreshes stored bytes.
  void refresh(const std::string& product, ProductCount& count, std::int64_t now_us,
               bool need_storage);
  std::uint64_t events_committed_since(const std::string& product, std::int64_t since_us) const;
  std::uint64_t live_bytes(const std::string& product) const;

  const catalog::CatalogRepo& catalog_;
  QuotaLimits defaults_;
  std::map<std::string, QuotaLimits> per_product_;
  std::chrono::milliseconds storage_refresh_;
  Clock now_;
  std::mutex mutex_;
  std::map<std::string, ProductCount> counts_;
};

}  // namespace duckmesh::ingest
