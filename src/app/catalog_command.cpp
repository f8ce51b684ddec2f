#include "app/catalog_command.hpp"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "catalog/migrations.hpp"
#include "catalog/sqlite/sqlite_catalog.hpp"
#include "common/error.hpp"
#include "pg/connection_pool.hpp"

namespace duckmesh::app {

std::optional<catalog::PostgresCatalogOptions> postgres_catalog_options(const Config& config) {
  if (config.catalog != "postgres") return std::nullopt;
  if (config.catalog_url.empty()) {
    throw Error(ErrorCode::invalid_input,
                "setting 'catalog_url' is required when catalog is postgres (a libpq connection "
                "string or postgresql://user:password@host:port/db)",
                {{"setting", "catalog_url"}});
  }
  catalog::PostgresCatalogOptions options;
  options.url = config.catalog_url;
  options.pool_size = config.catalog_pool_size;
  options.statement_timeout_ms = static_cast<int>(config.catalog_statement_timeout_ms);
  options.idempotency_window_us = config.idempotency_window_s * 1'000'000;
  return options;
}

std::optional<bus::PostgresBusOptions> postgres_bus_options(const Config& config) {
  if (config.bus != "postgres") return std::nullopt;
  bus::PostgresBusOptions options;
  options.url = config.bus_url.empty() ? config.catalog_url : config.bus_url;
  if (options.url.empty()) {
    throw Error(ErrorCode::invalid_input,
                "setting 'bus_url' is required when bus is postgres and no catalog_url is set",
                {{"setting", "bus_url"}});
  }
  options.pool_size = config.bus_pool_size;
  options.statement_timeout_ms = static_cast<int>(config.catalog_statement_timeout_ms);
  return options;
}

std::optional<storage::S3Options> s3_store_options(const Config& config) {
  if (config.store != "s3") return std::nullopt;
  auto require = [](const std::string& value, const char* setting) {
    if (value.empty()) {
      throw Error(ErrorCode::invalid_input,
                  std::string("setting '") + setting + "' is required when store is s3",
                  {{"setting", setting}});
    }
  };
  require(config.s3_endpoint, "s3_endpoint");
  require(config.s3_bucket, "s3_bucket");
  require(config.s3_access_key, "s3_access_key");
  require(config.s3_secret_key, "s3_secret_key");
  storage::S3Options o;
  o.endpoint = config.s3_endpoint;
  o.bucket = config.s3_bucket;
  o.prefix = config.s3_prefix;
  o.region = config.s3_region;
  o.credentials = {config.s3_access_key, config.s3_secret_key, ""};
  o.path_style = config.s3_path_style;
  o.cache_bytes = config.s3_cache_bytes;
  o.multipart_threshold = config.s3_multipart_threshold_bytes;
  o.part_size = config.s3_part_size_bytes;
  return o;
}

std::string cli_actor() {
  const char* user = std::getenv("USER");
  if (user && *user) return std::string("cli:") + user;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name)
    return std::string("cli:") + pw->pw_name;
  return "cli:uid-" + std::to_string(::geteuid());
}

void audit_cli_action(catalog::CatalogRepo& catalog, std::string action, std::string product,
                      std::string target, std::string details_json) {
  catalog::AuditEntry entry;
  entry.actor = cli_actor();
  entry.action = std::move(action);
  entry.product = std::move(product);
  entry.target = std::move(target);
  entry.outcome = "success";
  entry.details_json = std::move(details_json);
  entry.at_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  // Straight to the catalog: a command's output is its own, not log lines.
  catalog.append_audit(entry);
}

int run_migrate(const Config& config, std::ostream& out) {
  catalog::MigrationOutcome outcome;
  std::string where;
  if (auto postgres = postgres_catalog_options(config)) {
    where = "PostgreSQL catalog " + pg::redact_connection_string(postgres->url);
    outcome = catalog::PostgresCatalog::migrate(*postgres);
  } else {
    std::filesystem::create_directories(config.data_dir);
    catalog::SqliteCatalogOptions options;
    options.path = (std::filesystem::path(config.data_dir) / "catalog.sqlite").string();
    options.busy_timeout_ms = 30'000;  // a server on the same file may be writing
    where = "SQLite catalog " + options.path;
    outcome = catalog::SqliteCatalog::migrate(options);
  }
  out << where << ": schema version " << outcome.before << " -> " << outcome.after;
  if (outcome.before == outcome.after) {
    out << " (up to date)";
  } else {
    out << " (applied " << (outcome.after - outcome.before) << " migration"
        << (outcome.after - outcome.before == 1 ? "" : "s") << ")";
  }
  out << "\n";
  return 0;
}

}  // namespace duckmesh::app
