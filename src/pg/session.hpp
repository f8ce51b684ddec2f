// Running work on a pooled PostgreSQL connection, with the retries and the
// duckmesh::Error mapping every PostgreSQL-backed component shares.
//
// on_connection(pool, work) checks a connection out and runs work(connection):
// - the connection broke before anything was committed: once more on a fresh
//   connection (the server restarted), then Error unavailable;
// - it broke while committing (in doubt): unavailable, saying the outcome is
//   unknown (the caller's own idempotence settles it);
// - a deadlock or serialization failure: retried up to kMaxRollbackAttempts
//   times, then unavailable;
// - any other server error: map_sql_error.
// Messages start with the pool's subject ("PostgreSQL catalog: ...").
//
// run_transaction<Transaction>(pool, work) does the same inside a fresh
// transaction of that libpqxx type, committed when work returns.
#pragma once

#include <exception>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/transaction>
#include <string>
#include <type_traits>
#include <utility>

#include "common/error.hpp"
#include "pg/connection_pool.hpp"

namespace duckmesh::pg {

inline constexpr int kMaxRollbackAttempts = 5;

// The duckmesh::Error for an error the server reported: integrity violations
// are conflict, timeouts and connection trouble unavailable, the rest internal.
Error map_sql_error(const pqxx::sql_error& e, const PoolOptions& pool);

// Error unavailable "<subject>: <what>: <e.what()>".
Error unavailable(const PoolOptions& pool, const std::string& what, const std::exception& e);

// Connection trouble a fresh connection may cure (the server restarted).
bool is_connection_loss(const pqxx::sql_error& e);

template <typename Work>
auto on_connection(ConnectionPool& pool, Work&& work) {
  const PoolOptions& options = pool.options();
  for (int attempt = 1;; ++attempt) {
    auto lease = pool.checkout();
    try {
      return work(lease.connection());
    } catch (const pqxx::in_doubt_error& e) {
      lease.discard();
      throw unavailable(options, "the connection broke while committing; the outcome is unknown",
                        e);
    } catch (const pqxx::broken_connection& e) {
      lease.discard();
      if (attempt < 2) continue;  // nothing was committed: once more on a fresh connection
      throw unavailable(options, "lost the connection to the server", e);
    } catch (const pqxx::transaction_rollback& e) {
      if (attempt < kMaxRollbackAttempts) continue;
      throw unavailable(options, "the server kept rolling back a transaction under contention", e);
    } catch (const pqxx::sql_error& e) {
      if (is_connection_loss(e)) {
        lease.discard();
        if (attempt < 2) continue;
      }
      throw map_sql_error(e, options);
    }
  }
}

template <typename Transaction, typename Work>
auto run_transaction(ConnectionPool& pool, Work&& work) {
  return on_connection(pool, [&](pqxx::connection_base& connection) {
    Transaction tx(connection);
    if constexpr (std::is_void_v<std::invoke_result_t<Work&, pqxx::transaction_base&>>) {
      work(tx);
      tx.commit();
    } else {
      auto result = work(tx);
      tx.commit();
      return result;
    }
  });
}

}  // namespace duckmesh::pg
