#include "ingest/quota.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <iterator>

#include "common/calendar.hpp"
#include "common/error.hpp"

namespace duckmesh::ingest {
namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

std::int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t day_of(std::int64_t unix_us) {
  return unix_us >= 0 ? unix_us / kMicrosPerDay : (unix_us - kMicrosPerDay + 1) / kMicrosPerDay;
}

std::string utc_midnight(std::int64_t day) {
  auto date = calendar::civil_from_days(day);
  return fmt::format("{:04}-{:02}-{:02}T00:00:00Z", date.year, date.month, date.day);
}

}  // namespace

Quotas::Quotas(const catalog::CatalogRepo& catalog, QuotaLimits defaults,
               std::map<std::string, QuotaLimits> per_product, std::chrono::milliseconds refresh,
               Clock now)
    : catalog_(catalog),
      defaults_(defaults),
      per_product_(std::move(per_product)),
      refresh_(refresh),
      now_(now ? std::move(now) : Clock(wall_clock_us)) {}

QuotaLimits Quotas::limits_of(const std::string& product) const {
  auto it = per_product_.find(product);
  return it == per_product_.end() ? defaults_ : it->second;
}

void Quotas::count_committed_since(const std::string& product, ProductCount& count,
                                   std::int64_t since_us) const {
  // Snapshot ids increase by one per product: the ones above
  // counted_snapshot are new, newest first.
  constexpr std::size_t kPage = 200;
  std::int64_t before = 0;
  std::int64_t newest = count.counted_snapshot;
  for (;;) {
    auto page = catalog_.list_snapshots(product, kPage, before);
    for (const auto& snapshot : page) {
      if (snapshot.id <= count.counted_snapshot || snapshot.committed_unix_us < since_us) {
        count.counted_snapshot = newest;
        return;
      }
      newest = std::max(newest, snapshot.id);
      if (snapshot.operation != catalog::Operation::ingest) continue;
      boost::system::error_code ec;
      auto summary = boost::json::parse(snapshot.summary_json, ec);
      if (ec || !summary.is_object()) continue;
      if (const auto* n = summary.as_object().if_contains("events"); n && n->is_number()) {
        count.committed += n->to_number<std::uint64_t>();
      }
    }
    if (page.size() < kPage) {
      count.counted_snapshot = newest;
      return;
    }
    before = page.back().id;
  }
}

std::uint64_t Quotas::live_bytes(const std::string& product) const {
  auto latest = catalog_.latest_snapshot(product);
  if (!latest) return 0;
  std::uint64_t bytes = 0;
  for (const auto& file : catalog_.live_files(product, latest->id, "")) {
    bytes += static_cast<std::uint64_t>(file.bytes);
  }
  return bytes;
}

void Quotas::refresh(const std::string& product, ProductCount& count, std::int64_t now_us,
                     bool need_storage) {
  const std::int64_t every =
      std::chrono::duration_cast<std::chrono::microseconds>(refresh_).count();
  const std::int64_t today = day_of(now_us);
  if (count.day != today || count.committed_read_at_us == 0 ||
      now_us - count.committed_read_at_us >= every) {
    if (count.day != today) {
      count.day = today;
      count.committed = 0;
      count.counted_snapshot = 0;
    }
    // The watermark before the snapshots: every position at or below it was
    // committed before they are read, so it is in `committed` (or was
    // resolved without being stored) and stops counting as accepted here.
    const bus::Position watermark = catalog_.watermark();
    count_committed_since(product, count, today * kMicrosPerDay);
    while (!count.accepted.empty() && count.accepted.begin()->first <= watermark) {
      count.accepted_events -= count.accepted.begin()->second;
      count.accepted.erase(count.accepted.begin());
    }
    count.committed_read_at_us = now_us;
  }
  if (need_storage && (count.stored_read_at_us == 0 || now_us - count.stored_read_at_us >= every)) {
    count.stored_bytes = live_bytes(product);
    count.stored_read_at_us = now_us;
  }
}

void Quotas::reserve(const std::string& product, std::uint64_t events) {
  QuotaLimits limits = limits_of(product);
  if (!limits.any() || events == 0) return;
  std::int64_t now_us = now_();
  std::lock_guard lock(mutex_);
  auto& count = counts_[product];
  refresh(product, count, now_us, limits.stored_bytes > 0);
  if (limits.stored_bytes > 0 && count.stored_bytes >= limits.stored_bytes) {
    throw Error(
        ErrorCode::quota_exceeded,
        fmt::format("product '{}' stores {} bytes, at or past its storage quota of {} "
                    "bytes; nothing was accepted (compaction, snapshot expiry or dropping "
                    "a table frees space)",
                    product, count.stored_bytes, limits.stored_bytes),
        {{"quota", "stored_bytes"}, {"limit", limits.stored_bytes}, {"used", count.stored_bytes}});
  }
  if (limits.events_per_day > 0 && count.events() + events > limits.events_per_day) {
    std::int64_t resets_us = (count.day + 1) * kMicrosPerDay;
    std::int64_t retry_after =
        std::max<std::int64_t>(1, (resets_us - now_us + 999'999) / 1'000'000);
    throw Error(ErrorCode::quota_exceeded,
                fmt::format("product '{}' accepted {} events today, and {} more would pass its "
                            "quota of {} events per day; nothing was accepted; the count resets "
                            "at {}",
                            product, count.events(), events, limits.events_per_day,
                            utc_midnight(count.day + 1)),
                {{"quota", "events_per_day"},
                 {"limit", limits.events_per_day},
                 {"used", count.events()},
                 {"requested", events},
                 {"resets_at", utc_midnight(count.day + 1)},
                 {"retry_after_seconds", retry_after}});
  }
  count.reserved += events;
}

void Quotas::published(const std::string& product, std::uint64_t events, bus::Position last) {
  if (!limits_of(product).any() || events == 0) return;
  std::lock_guard lock(mutex_);
  auto& count = counts_[product];
  count.reserved -= std::min(count.reserved, events);
  // A long stall of the commit must not grow this without bound: past a
  // few thousand requests, the oldest two merge under the later position
  // (counted a little longer, never less).
  constexpr std::size_t kMaxAccepted = 4096;
  count.accepted[last] += events;
  count.accepted_events += events;
  if (count.accepted.size() > kMaxAccepted) {
    auto oldest = count.accepted.begin();
    std::next(oldest)->second += oldest->second;
    count.accepted.erase(oldest);
  }
}

void Quotas::release(const std::string& product, std::uint64_t events) {
  if (!limits_of(product).any()) return;
  std::lock_guard lock(mutex_);
  auto it = counts_.find(product);
  if (it == counts_.end()) return;
  it->second.reserved -= std::min(it->second.reserved, events);
}

QuotaUsage Quotas::usage(const std::string& product) {
  QuotaUsage usage;
  usage.limits = limits_of(product);
  std::int64_t now_us = now_();
  std::lock_guard lock(mutex_);
  auto& count = counts_[product];
  refresh(product, count, now_us, true);
  usage.events_today = count.events();
  usage.stored_bytes = count.stored_bytes;
  usage.day_resets_at_unix_s = (count.day + 1) * 86'400;
  return usage;
}

}  // namespace duckmesh::ingest
