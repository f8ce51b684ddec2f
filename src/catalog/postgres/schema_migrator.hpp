// Brings a PostgreSQL catalog database to the schema version this binary
// knows, with the migrations SQLite uses (catalog/migrations.hpp).
//
// The migration SQL is applied as written: its BIGINT/TEXT columns, CHECK
// constraints, partial indexes, foreign keys and ALTER TABLE ... ADD COLUMN
// mean the same in PostgreSQL, so no per-backend translation is needed (the
// conformance tests would show a difference in behaviour). Should a later
// migration need one, it belongs in this file, keyed by version, and must
// leave the logical schema identical to SQLite's.
//
// All missing migrations run in one transaction that first takes a
// transaction-scoped advisory lock, so processes opening the same new
// database at once serialise: the first applies them, the others find them
// applied. A failure part-way leaves the database at its previous version.
#pragma once

#include <cstdint>

#include "catalog/migrations.hpp"

namespace pqxx {
class connection_base;
}

namespace duckmesh::catalog::postgres {

// Applies every migration newer than the database's version, recording each
// in schema_migrations with `now_unix_us`. Throws internal, changing nothing,
// when the database's version is newer than latest_schema_version().
MigrationOutcome migrate(pqxx::connection_base& connection, std::int64_t now_unix_us);

// The highest version recorded in schema_migrations (0 when none or absent).
int applied_schema_version(pqxx::connection_base& connection);

}  // namespace duckmesh::catalog::postgres
