// The catalog, ingest bus and store a Config names, `duckmesh migrate`, and
// the audit entries of commands run on a node's machine.
#pragma once

#include <iosfwd>
#include <optional>

#include "app/config.hpp"
#include "bus/postgres/postgres_bus.hpp"
#include "catalog/postgres/postgres_catalog.hpp"
#include "storage/s3/s3_object_store.hpp"

namespace duckmesh::app {

// The PostgreSQL catalog's options when `catalog` is postgres, nullopt for
// sqlite. invalid_input when catalog is postgres and catalog_url is empty.
std::optional<catalog::PostgresCatalogOptions> postgres_catalog_options(const Config& config);

// The PostgreSQL bus's options when `bus` is postgres (at bus_url, else
// catalog_url), nullopt for the local log.
std::optional<bus::PostgresBusOptions> postgres_bus_options(const Config& config);

// Brings the configured catalog (<data_dir>/catalog.sqlite, created with its
// directory when absent, or the PostgreSQL database at catalog_url) to this
// binary's schema version and prints the version before and after. A catalog
// newer than the binary is refused unchanged (Error internal). Returns the
// exit code.
int run_migrate(const Config& config, std::ostream& out);

// The S3 store's options when `store` is s3, nullopt for the local store.
// invalid_input naming a missing setting.
std::optional<storage::S3Options> s3_store_options(const Config& config);

// "cli:<login name>": who runs a command, as far as the system knows.
std::string cli_actor();

// Records a command's administrative action in the audit log (actor
// cli_actor(), outcome "success", details a JSON object text).
void audit_cli_action(catalog::CatalogRepo& catalog, std::string action, std::string product,
                      std::string target, std::string details_json = R"({"via":"cli"})");

}  // namespace duckmesh::app
