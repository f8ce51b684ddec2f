// Brings an SQLite catalog file to the schema version this binary knows.
//
// All missing migrations run in one BEGIN IMMEDIATE transaction, so several
// processes opening the same new file at once serialise: the first applies
// them, the others find them applied. A crash part-way leaves the file at its
// previous version.
#pragma once

#include <cstdint>

#include "catalog/migrations.hpp"
#include "catalog/sqlite/connection.hpp"

namespace duckmesh::catalog::sqlite {

// Applies every migration newer than the file's version, recording each in
// schema_migrations with `now_unix_us`; returns the versions before and after.
// Throws internal, changing nothing, when the file's version is newer than
// latest_schema_version() (it was written by a newer binary).
MigrationOutcome migrate(Connection& connection, std::int64_t now_unix_us);

// The highest version recorded in schema_migrations (0 when none).
// REQUIRES: migrate() ran on this file (schema_migrations exists).
int applied_schema_version(Connection& connection);

}  // namespace duckmesh::catalog::sqlite
