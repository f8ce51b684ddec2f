#include "catalog/sqlite/schema_migrator.hpp"

#include <string>

#include "catalog/migrations.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog::sqlite {
namespace {

int read_version(Connection& connection) {
  auto query = connection.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!query.step()) throw Error(ErrorCode::internal, "catalog database: no schema version row");
  return static_cast<int>(query.column_int64(0));
}

}  // namespace

MigrationOutcome migrate(Connection& connection, std::int64_t now_unix_us) {
  Transaction transaction(connection, Transaction::Mode::write);
  connection.execute_script(schema_migrations_ddl());
  const int current = read_version(connection);
  const int latest = latest_schema_version();
  if (current > latest) {
    boost::json::object details;
    details["path"] = connection.path();
    details["file_version"] = current;
    details["supported_version"] = latest;
    throw Error(ErrorCode::internal,
                "catalog '" + connection.path() + "' has schema version " +
                    std::to_string(current) + ", newer than version " + std::to_string(latest) +
                    " that this duckmesh binary supports; run a newer duckmesh",
                std::move(details));
  }
  for (const Migration& migration : migrations()) {
    if (migration.version <= current) continue;
    connection.execute_script(migration.sql);
    connection.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)")
        .bind_int64(1, migration.version)
        .bind_int64(2, now_unix_us)
        .run();
  }
  transaction.commit();
  return {current, latest};
}

int applied_schema_version(Connection& connection) {
  Transaction transaction(connection, Transaction::Mode::read);
  const int version = read_version(connection);
  transaction.commit();
  return version;
}

}  // namespace duckmesh::catalog::sqlite
