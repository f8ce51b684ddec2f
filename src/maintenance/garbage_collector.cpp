#include "maintenance/garbage_collector.hpp"

#include <filesystem>
#include <set>

#include "obs/log.hpp"

namespace duckmesh::maintenance {

std::int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<ProductExpiry> expire_snapshots(catalog::CatalogRepo& catalog,
                                            const RetentionOptions& options,
                                            const std::string& product, bool dry_run,
                                            std::int64_t now_unix_us) {
  std::vector<std::string> products;
  if (!product.empty()) {
    products.push_back(product);
  } else {
    for (const auto& p : catalog.list_products()) products.push_back(p.name);
  }
  const std::int64_t cutoff =
      now_unix_us - std::chrono::duration_cast<std::chrono::microseconds>(options.max_age).count();
  std::vector<ProductExpiry> results;
  for (const auto& p : products) {
    results.push_back(
        {p, catalog.expire_snapshots(p, std::max<std::size_t>(options.keep_at_least, 1), cutoff,
                                     dry_run)});
  }
  return results;
}

GcReport collect_garbage(catalog::CatalogRepo& catalog, storage::ObjectStore& store,
                         const GcOptions& options, std::int64_t now_unix_us) {
  GcReport report;
  report.dry_run = options.dry_run;
  const std::int64_t grace_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options.grace).count();
  const std::int64_t cutoff_us = now_unix_us - grace_us;

  // List the store before reading the catalog: an object published after the
  // listing is simply not looked at, one published before is known below.
  auto objects = store.list("products/");

  auto add = [&](std::string key, std::uint64_t bytes, std::string reason) {
    report.bytes += bytes;
    report.items.push_back({std::move(key), bytes, std::move(reason)});
  };

  std::set<std::string> collected;
  for (const auto& product : catalog.list_products()) {
    auto files = catalog.collectable_files(product.name, cutoff_us);
    if (files.empty()) continue;
    std::vector<std::int64_t> ids;
    for (const auto& f : files) {
      collected.insert(f.path);
      add(f.path, static_cast<std::uint64_t>(f.bytes), "unreferenced");
      if (options.dry_run) continue;
      store.remove(f.path);
      ids.push_back(f.id);
    }
    if (!ids.empty()) catalog.forget_files(product.name, ids);
  }

  auto known_paths = catalog.known_file_paths();
  std::set<std::string> known(known_paths.begin(), known_paths.end());
  const std::int64_t cutoff_ms = cutoff_us / 1000;
  for (const auto& object : objects) {
    if (known.count(object.key) || object.modified_unix_ms > cutoff_ms) continue;
    if (collected.count(object.key)) continue;  // judged above; its catalog row is gone now
    add(object.key, object.size, "orphan");
    if (!options.dry_run) store.remove(object.key);
  }

  std::error_code ec;
  const auto scratch = store.scratch_dir();
  for (std::filesystem::directory_iterator it(scratch, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code stat_ec;
    if (!it->is_regular_file(stat_ec)) continue;
    const auto written = std::chrono::file_clock::to_sys(it->last_write_time(stat_ec));
    if (stat_ec) continue;
    const auto written_us =
        std::chrono::duration_cast<std::chrono::microseconds>(written.time_since_epoch()).count();
    if (written_us > cutoff_us) continue;
    const auto size = it->file_size(stat_ec);
    add(".scratch/" + it->path().filename().string(), stat_ec ? 0 : size, "scratch");
    if (!options.dry_run) std::filesystem::remove(it->path(), stat_ec);
  }

  log::info(options.dry_run ? "gc dry run" : "gc done",
            {{"files", report.items.size()}, {"bytes", report.bytes}});
  return report;
}

}  // namespace duckmesh::maintenance
