// Per-product quotas on ingest: events accepted per UTC day and bytes stored.
//
// Both are checked before an event is published, so a product over its
// quota gets a clear quota_exceeded (429) and nothing of the request is
// accepted: the quota is never overshot by part of a batch. Duplicates
// (events already accepted under the same idempotency key) are not counted.
//
// Events per day: counted per product and UTC day, across every node that
// shares the catalog: the events of the product's ingest snapshots
// committed since midnight (by any node; read again from the catalog at
// most every `refresh`, only the snapshots new since the last read), plus
// the events this node accepted that the catalog's watermark has not yet
// passed (published, not committed). With several API nodes, what the
// others accepted counts once it is committed and this node has read the
// catalog again: a day's total can pass the quota by at most what the other
// nodes accepted within one `refresh` plus their commit delay, not by a
// factor of the node count. An event accepted here and then committed is
// counted once: in the committed events when the watermark read before them
// covers it, as accepted until then (one committed in between is counted
// twice until the next read, never missed). Accepted events that are then
// dropped as duplicates at commit or dead-lettered stop counting once
// resolved. Events accepted but not yet committed when a node restarts are
// counted again only once they commit.
//
// Stored bytes: the size of the product's live data files at its latest
// snapshot, read from the catalog at most every `refresh`; a product
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

#include "bus/ingest_bus.hpp"
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

  // `per_product` overrides `defaults` for the products it names. `refresh`:
  // how often a product's committed events and stored bytes are read again.
  Quotas(const catalog::CatalogRepo& catalog, QuotaLimits defaults,
         std::map<std::string, QuotaLimits> per_product = {},
         std::chrono::milliseconds refresh = std::chrono::seconds(5), Clock now = {});
  Quotas(const Quotas&) = delete;
  Quotas& operator=(const Quotas&) = delete;

  // Counts `events` against `product`'s quotas for today, or throws
  // Error(quota_exceeded) naming the quota, its limit, what is used, and
  // (for the daily quota) when it resets, with retry_after_seconds.
  void reserve(const std::string& product, std::uint64_t events);
  // Events reserve() counted were published, the last of them at position
  // `last`: they count as accepted until the catalog's watermark reaches
  // `last` (by then they are in the committed events).
  void published(const std::string& product, std::uint64_t events, bus::Position last);
  // Gives back events reserve() counted that were then not published.
  void release(const std::string& product, std::uint64_t events);

  QuotaLimits limits_of(const std::string& product) const;
  QuotaUsage usage(const std::string& product);

 private:
  struct ProductCount {
    std::int64_t day = -1;                  // UTC day number the count is for
    std::uint64_t committed = 0;            // events of today's ingest snapshots, every node's
    std::int64_t counted_snapshot = 0;      // the newest snapshot in `committed` (0: none)
    std::int64_t committed_read_at_us = 0;  // 0: never read
    // Published by this node, maybe not committed yet: events by the
    // position of their request's last event.
    std::map<bus::Position, std::uint64_t> accepted;
    std::uint64_t accepted_events = 0;
    std::uint64_t reserved = 0;  // counted by reserve(), not yet published or released
    std::uint64_t stored_bytes = 0;
    std::int64_t stored_read_at_us = 0;  // 0: never read

    std::uint64_t events() const { return committed + accepted_events + reserved; }
  };
  // REQUIRES mutex_ held. Brings `count` to today and, when due, reads
  // again what the catalog knows: committed events, stored bytes.
  void refresh(const std::string& product, ProductCount& count, std::int64_t now_us,
               bool need_storage);
  // Adds the events of the ingest snapshots newer than count.counted_snapshot
  // and committed at or after `since_us`.
  void count_committed_since(const std::string& product, ProductCount& count,
                             std::int64_t since_us) const;
  std::uint64_t live_bytes(const std::string& product) const;

  const catalog::CatalogRepo& catalog_;
  QuotaLimits defaults_;
  std::map<std::string, QuotaLimits> per_product_;
  std::chrono::milliseconds refresh_;
  Clock now_;
  std::mutex mutex_;
  std::map<std::string, ProductCount> counts_;
};

}  // namespace duckmesh::ingest
