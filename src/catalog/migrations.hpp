// The versioned schema of the SQL catalog.
//
// Migrations are written in the SQL that SQLite and PostgreSQL share: BIGINT
// and TEXT columns, ids assigned by the catalog code from catalog_sequences
// (no AUTOINCREMENT, SERIAL or rowid aliases), CHECK constraints, partial
// indexes and foreign keys. Every backend therefore holds the same logical
// schema. A backend applies the missing migrations in version order inside one
// transaction and records each one in schema_migrations(version, applied_at);
// a catalog whose recorded version is newer than latest_schema_version() was
// written by a newer binary and must be refused, not modified.
//
// A migration, once released, is never edited: a schema change is a new
// migration appended to the list.
//
// Times are BIGINT microseconds since the Unix epoch; bus positions are
// BIGINT (positions stay below 2^63).
#pragma once

#include <span>
#include <string_view>

namespace duckmesh::catalog {

struct Migration {
  int version = 0;  // 1, 2, 3, ... without gaps
  std::string_view description;
  std::string_view sql;  // one or more statements, no parameters
};

// What bringing a catalog to this binary's schema did: the version found and
// the version left (equal when nothing was missing).
struct MigrationOutcome {
  int before = 0;
  int after = 0;
};

// Creates schema_migrations when absent; run before reading the version.
std::string_view schema_migrations_ddl();

// All migrations, in version order.
std::span<const Migration> migrations();

// The version of the last migration this binary knows.
int latest_schema_version();

}  // namespace duckmesh::catalog
