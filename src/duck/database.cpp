#include "duck/database.hpp"

#include "common/error.hpp"
#include "duck/duckdb_error.hpp"

namespace duckmesh::duck {
namespace {

// Owns a duckdb_config for the duration of an open.
class Config {
 public:
  Config() {
    // duckdb_destroy_config must run even when creation fails.
    if (duckdb_create_config(&config_) == DuckDBError) {
      duckdb_destroy_config(&config_);
      throw Error(ErrorCode::internal, "DuckDB could not create a configuration object");
    }
  }
  ~Config() { duckdb_destroy_config(&config_); }
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  void set(const std::string& name, const std::string& value) {
    std::string c_name = detail::c_string(name, "DuckDB option name");
    std::string c_value = detail::c_string(value, "DuckDB option value");
    if (duckdb_set_config(config_, c_name.c_str(), c_value.c_str()) == DuckDBError) {
      throw Error(ErrorCode::invalid_input,
                  "DuckDB rejected option '" + name + "' = '" + value + "'",
                  {{"option", name}, {"value", value}});
    }
  }

  duckdb_config get() const { return config_; }

 private:
  duckdb_config config_ = nullptr;
};

}  // namespace

std::string library_version() {
  const char* version = duckdb_library_version();
  return version == nullptr ? std::string() : std::string(version);
}

Database::Database(const std::string& path, const DatabaseOptions& options) {
  Config config;
  if (options.threads) config.set("threads", std::to_string(*options.threads));
  if (!options.memory_limit.empty()) config.set("memory_limit", options.memory_limit);
  if (!options.temp_directory.empty()) config.set("temp_directory", options.temp_directory);
  const std::string autoload = options.allow_extensions_autoload ? "true" : "false";
  config.set("autoload_known_extensions", autoload);
  config.set("autoinstall_known_extensions", autoload);
  for (const auto& [name, value] : options.extra) config.set(name, value);

  std::string c_path = detail::c_string(path, "database path");
  char* open_error = nullptr;
  duckdb_state state =
      duckdb_open_ext(path.empty() ? nullptr : c_path.c_str(), &db_, config.get(), &open_error);
  if (state == DuckDBError) {
    std::string text = open_error != nullptr ? open_error : "";
    if (open_error != nullptr) duckdb_free(open_error);
    db_ = nullptr;
    detail::throw_duckdb_error("cannot open DuckDB database '" + path + "'", text.c_str(),
                               DUCKDB_ERROR_INVALID, ErrorCode::internal);
  }
}

Database::~Database() {
  if (db_ != nullptr) duckdb_close(&db_);
}

Database::Database(Database&& other) noexcept : db_(other.db_) {
  other.db_ = nullptr;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) duckdb_close(&db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

}  // namespace duckmesh::duck
