#include "app/catalog_command.hpp"

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
