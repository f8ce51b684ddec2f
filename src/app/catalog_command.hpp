// The catalog and ingest bus a Config names, and `duckmesh migrate`.
#pragma once

#include <iosfwd>
#include <optional>

#include "app/config.hpp"
#include "bus/postgres/postgres_bus.hpp"
#include "catalog/postgres/postgres_catalog.hpp"

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

}  // namespace duckmesh::app
