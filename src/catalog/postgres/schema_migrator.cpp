#include "catalog/postgres/schema_migrator.hpp"

#include <boost/json/object.hpp>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "common/error.hpp"

namespace duckmesh::catalog::postgres {
namespace {

// Any constant shared by every DuckMesh process: the key of the advisory lock
// that serialises migrators of one database.
constexpr std::int64_t kMigrationLockKey = 0x4475636b4d657368;  // "DuckMesh"

int read_version(pqxx::transaction_base& tx) {
  const auto exists = tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0].as<bool>()) return 0;
  return tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0].as<int>();
}

}  // namespace

MigrationOutcome migrate(pqxx::connection_base& connection, std::int64_t now_unix_us) {
  pqxx::work tx(connection);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
  const int current = read_version(tx);
  const int latest = latest_schema_version();
  if (current > latest) {
    boost::json::object details;
    details["database_version"] = current;
    details["supported_version"] = latest;
    throw Error(ErrorCode::internal,
                "PostgreSQL catalog has schema version " + std::to_string(current) +
                    ", newer than version " + std::to_string(latest) +
                    " that this duckmesh binary supports; run a newer duckmesh",
                std::move(details));
  }
  tx.exec(std::string(schema_migrations_ddl()));
  for (const Migration& migration : migrations()) {
    if (migration.version <= current) continue;
    tx.exec(std::string(migration.sql));
    tx.exec_params("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                   migration.version, now_unix_us);
  }
  tx.commit();
  return {current, latest};
}

int applied_schema_version(pqxx::connection_base& connection) {
  pqxx::read_transaction tx(connection);
  const int version = read_version(tx);
  tx.commit();
  return version;
}

}  // namespace duckmesh::catalog::postgres
