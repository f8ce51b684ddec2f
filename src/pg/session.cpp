#include "pg/session.hpp"

#include <boost/json/object.hpp>

namespace duckmesh::pg {

Error map_sql_error(const pqxx::sql_error& e, const PoolOptions& pool) {
  const std::string& state = e.sqlstate();
  boost::json::object details;
  details["sqlstate"] = state;
  std::string message = pool.subject + ": " + e.what();
  while (!message.empty() && message.back() == '\n') message.pop_back();
  ErrorCode code = ErrorCode::internal;
  if (state.rfind("23", 0) == 0) {
    code = ErrorCode::conflict;  // integrity: a uniqueness race lost
  } else if (state == "57014" || state == "55P03") {
    code = ErrorCode::unavailable;
    message += " (a statement or lock wait ran beyond " + pool.setting_prefix +
               "_statement_timeout_ms)";
  } else if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "53300") {
    code = ErrorCode::unavailable;  // connection trouble, server shutting down, too many clients
  }
  return Error(code, std::move(message), std::move(details));
}

Error unavailable(const PoolOptions& pool, const std::string& what, const std::exception& e) {
  return Error(ErrorCode::unavailable, pool.subject + ": " + what + ": " + e.what());
}

bool is_connection_loss(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0;
}

}  // namespace duckmesh::pg
