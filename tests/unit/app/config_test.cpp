#include "app/config.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"

namespace duckmesh::app {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A config file in the temporary directory, removed when the test binary
// exits.
std::string write_file(const std::string& text) {
  struct Written {
    std::vector<std::filesystem::path> paths;
    ~Written() {
      std::error_code ec;
      for (const auto& path : paths) std::filesystem::remove(path, ec);
    }
  };
  static Written written;
  auto path = std::filesystem::temp_directory_path() /
              ("duckmesh-config-" + std::to_string(::getpid()) + "-" +
               std::to_string(std::hash<std::string>{}(text)) + ".json");
  std::ofstream(path) << text;
  written.paths.push_back(path);
  return path.string();
}

TEST(Config, DefaultsWhenNothingIsGiven) {
  auto c = load_config({}, env_of({}), "");
  EXPECT_EQ(c.listen(), "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, "./duckmesh-data");
  EXPECT_EQ(c.onto_server_url, "http://localhost:8001");
  EXPECT_DOUBLE_EQ(c.onto_server_timeout_s, 5.0);
  EXPECT_FALSE(c.use_mock_onto_server);
  EXPECT_EQ(c.duckdb_path, ":memory:");
}

TEST(Config, FlagsBeatEnvironmentBeatsFileBeatsDefaults) {
  auto file = write_file(R"({"listen": "127.0.0.1:7000", "data_dir": "/from/file", "io_threads": 3,
                             "log_level": "debug"})");
  auto env = env_of({{"DUCKMESH_LISTEN", "127.0.0.1:7001"}, {"DUCKMESH_DATA_DIR", "/from/env"}});
  auto c = load_config({{"listen", "127.0.0.1:7002"}}, env, file);
  EXPECT_EQ(c.listen_port, 7002);      // flag
  EXPECT_EQ(c.data_dir, "/from/env");  // environment over file
  EXPECT_EQ(c.io_threads, 3u);         // file over default
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.worker_threads, 8u);  // default
}

TEST(Config, ConfigFileCanBeNamedByEnvironment) {
  auto file = write_file(R"({"data_dir": "/named/by/env"})");
  auto c = load_config({}, env_of({{"DUCKMESH_CONFIG", file}}), "");
  EXPECT_EQ(c.data_dir, "/named/by/env");
}

TEST(Config, SeedCompatibleVariables) {
  auto c = load_config({},
                       env_of({{"ONTO_SERVER_URL", "http://onto:9000"},
                               {"ONTO_SERVER_TIMEOUT", "2.5"},
                               {"USE_MOCK_ONTO_SERVER", "true"},
                               {"DUCKDB_PATH", "/tmp/x.duckdb"}}),
                       "");
  EXPECT_EQ(c.onto_server_url, "http://onto:9000");
  EXPECT_DOUBLE_EQ(c.onto_server_timeout_s, 2.5);
  EXPECT_TRUE(c.use_mock_onto_server);
  EXPECT_EQ(c.duckdb_path, "/tmp/x.duckdb");
}

void expect_refused(const std::map<std::string, std::string>& flags, const std::string& setting,
                    const std::string& fragment) {
  try {
    load_config(flags, env_of({}), "");
    FAIL() << "expected " << setting << " to be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
    EXPECT_EQ(e.details().at("setting").as_string(), setting);
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Config, BadValuesAreRefusedNamingTheSettingAndWhatIsAllowed) {
  expect_refused({{"listen", "nonsense"}}, "listen", "HOST:PORT");
  expect_refused({{"listen", "127.0.0.1:70000"}}, "listen", "0 to 65535");
  expect_refused({{"io_threads", "0"}}, "io_threads", "from 1 to 256");
  expect_refused({{"io_threads", "two"}}, "io_threads", "whole number");
  expect_refused({{"log_level", "loud"}}, "log_level", "trace, debug, info, warn, error");
  expect_refused({{"onto_server_url", "ftp://x"}}, "onto_server_url", "http://");
  expect_refused({{"onto_server_timeout", "-1"}}, "onto_server_timeout", "greater than 0");
  expect_refused({{"use_mock_onto_server", "maybe"}}, "use_mock_onto_server", "true or false");
  expect_refused({{"duckdb_memory_limit", "lots"}}, "duckdb_memory_limit", "4GB");
  expect_refused({{"ingest_max_memory", "lots"}}, "ingest_max_memory", "4GB");
  expect_refused({{"ingest_max_memory", "4XB"}}, "ingest_max_memory", "2GiB");
  expect_refused({{"ingest_max_memory", "0%"}}, "ingest_max_memory", "70%");
  expect_refused({{"ingest_max_memory", "101%"}}, "ingest_max_memory", "70%");
  expect_refused({{"ingest_max_memory", "-1GB"}}, "ingest_max_memory", "no limit");
  expect_refused({{"ingest_max_memory", "99999999999TB"}}, "ingest_max_memory", "4GB");
}

TEST(Config, IngestMemoryLimitInBytes) {
  EXPECT_EQ(load_config({}, env_of({}), "").ingest_max_memory, "auto");
  const std::uint64_t gib = 1ull << 30;
  EXPECT_EQ(ingest_memory_limit_bytes("auto", 10 * gib), 8 * gib);
  EXPECT_EQ(ingest_memory_limit_bytes("50%", 10 * gib), 5 * gib);
  EXPECT_EQ(ingest_memory_limit_bytes("0", 10 * gib), 0u);
  EXPECT_EQ(ingest_memory_limit_bytes("4GB", 10 * gib), 4'000'000'000u);
  EXPECT_EQ(ingest_memory_limit_bytes("2GiB", 0), 2 * gib);
  EXPECT_EQ(ingest_memory_limit_bytes("512MiB", 0), 512ull << 20);
  EXPECT_EQ(ingest_memory_limit_bytes("1048576", 0), 1048576u);
  // A share of an unknown amount is no limit.
  EXPECT_EQ(ingest_memory_limit_bytes("auto", 0), 0u);
  auto c = load_config({{"ingest_max_memory", "70%"}},
                       env_of({{"DUCKMESH_INGEST_MAX_MEMORY", "1GB"}}), "");
  EXPECT_EQ(c.ingest_max_memory, "70%");
  c = load_config({}, env_of({{"DUCKMESH_INGEST_MAX_MEMORY", "1GB"}}), "");
  EXPECT_EQ(c.ingest_max_memory, "1GB");
}

TEST(Config, DiskHealthThresholds) {
  auto c = load_config({}, env_of({}), "");
  EXPECT_EQ(c.health_disk_degraded_free_percent, 10);
  EXPECT_EQ(c.health_disk_unhealthy_free_percent, 2);
  c = load_config({{"health_disk_degraded_free_percent", "0"}},
                  env_of({{"DUCKMESH_HEALTH_DISK_UNHEALTHY_FREE_PERCENT", "0"}}), "");
  EXPECT_EQ(c.health_disk_degraded_free_percent, 0);
  EXPECT_EQ(c.health_disk_unhealthy_free_percent, 0);
  expect_refused({{"health_disk_degraded_free_percent", "101"}},
                 "health_disk_degraded_free_percent", "from 0 to 100");
  expect_refused({{"health_disk_unhealthy_free_percent", "5%"}},
                 "health_disk_unhealthy_free_percent", "whole number");
  // Unhealthy before degraded makes no sense: refused, naming both.
  expect_refused(
      {{"health_disk_degraded_free_percent", "5"}, {"health_disk_unhealthy_free_percent", "6"}},
      "health_disk_unhealthy_free_percent", "at most health_disk_degraded_free_percent");
}

TEST(Config, ErrorsSayWhereTheValueCameFrom) {
  try {
    load_config({}, env_of({{"DUCKMESH_IO_THREADS", "-3"}}), "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("DUCKMESH_IO_THREADS"), std::string::npos) << e.what();
  }
  auto file = write_file(R"({"no_such_setting": 1})");
  try {
    load_config({}, env_of({}), file);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown setting 'no_such_setting'"), std::string::npos);
  }
  auto broken = write_file("{not json");
  EXPECT_THROW(load_config({}, env_of({}), broken), Error);
  EXPECT_THROW(load_config({}, env_of({}), "/no/such/file.json"), Error);
}

TEST(Config, PrintedFormMasksCredentials) {
  auto c = load_config({{"onto_server_url", "https://user:secret@onto.example:8001/base"}},
                       env_of({}), "");
  auto printed = c.to_json();
  EXPECT_EQ(printed.at("onto_server_url").as_string(), "https://***@onto.example:8001/base");
  EXPECT_EQ(printed.at("listen").as_string(), "127.0.0.1:8080");
}

TEST(Config, AuthenticationIsOnUnlessSwitchedOffAndSecretsAreMasked) {
  auto defaults = load_config({}, env_of({}), "");
  EXPECT_FALSE(defaults.insecure_no_auth);
  EXPECT_TRUE(is_switch("insecure_no_auth"));
  EXPECT_FALSE(is_switch("data_dir"));
  auto off = load_config({}, env_of({{"DUCKMESH_INSECURE_NO_AUTH", "true"}}), "");
  EXPECT_TRUE(off.insecure_no_auth);
  auto file = write_file(R"({"insecure_no_auth": true, "jwt_leeway_s": 5})");
  auto from_file = load_config({}, env_of({}), file);
  EXPECT_TRUE(from_file.insecure_no_auth);
  EXPECT_EQ(from_file.jwt_leeway_s, 5);
  const std::string secret = "0123456789abcdef0123456789abcdef";
  auto jwt = load_config({{"jwt_hs256_secret", secret}}, env_of({}), "");
  EXPECT_EQ(jwt.jwt_hs256_secret, secret);
  auto printed = jwt.to_json();
  EXPECT_EQ(printed.at("jwt_hs256_secret").as_string(), "***");
  EXPECT_EQ(printed.at("insecure_no_auth").as_bool(), false);
  try {
    load_config({{"jwt_hs256_secret", "short"}}, env_of({}), "");
    FAIL() << "a short secret was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("short"), std::string::npos) << "the secret is echoed";
  }
}

TEST(Config, CatalogSettingsFromEachSourceWithThePasswordMasked) {
  auto defaults = load_config({}, env_of({}), "");
  EXPECT_EQ(defaults.catalog, "sqlite");
  EXPECT_EQ(defaults.catalog_pool_size, 4u);
  EXPECT_EQ(defaults.catalog_statement_timeout_ms, 30'000);

  auto file = write_file(R"({"catalog": "postgres", "catalog_pool_size": 8})");
  auto env = env_of({{"DUCKMESH_CATALOG_URL", "postgresql://dm:hunter2@db:5432/catalog"},
                     {"DUCKMESH_CATALOG_POOL_SIZE", "6"}});
  auto c = load_config({{"catalog_statement_timeout_ms", "1500"}}, env, file);
  EXPECT_EQ(c.catalog, "postgres");                                     // file
  EXPECT_EQ(c.catalog_url, "postgresql://dm:hunter2@db:5432/catalog");  // environment
  EXPECT_EQ(c.catalog_pool_size, 6u);                                   // environment beats file
  EXPECT_EQ(c.catalog_statement_timeout_ms, 1500);                      // flag
  const auto printed = c.to_json();
  EXPECT_EQ(printed.at("catalog_url").as_string(), "postgresql://dm:***@db:5432/catalog");
  EXPECT_EQ(boost::json::serialize(printed).find("hunter2"), std::string::npos);

  auto keywords =
      load_config({{"catalog_url", "host=db password=hunter2 dbname=c"}}, env_of({}), "");
  EXPECT_EQ(keywords.to_json().at("catalog_url").as_string(), "host=db password=*** dbname=c");

  EXPECT_THROW(load_config({{"catalog", "mysql"}}, env_of({}), ""), Error);
  EXPECT_THROW(load_config({{"catalog_pool_size", "0"}}, env_of({}), ""), Error);
  EXPECT_THROW(load_config({{"catalog_statement_timeout_ms", "-1"}}, env_of({}), ""), Error);
  EXPECT_THROW(load_config({{"catalog_url", ""}}, env_of({}), ""), Error);
}

std::string error_of(const std::map<std::string, std::string>& flags) {
  try {
    load_config(flags, env_of({}), "");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, RolesAndTheSharedBus) {
  auto defaults = load_config({}, env_of({}), "");
  EXPECT_TRUE(defaults.roles.all());
  EXPECT_EQ(defaults.roles.to_string(), "api,coordinator,compactor,gc");
  EXPECT_EQ(defaults.bus, "local");
  EXPECT_EQ(defaults.commit_lease_ms, 120'000);

  auto c = load_config({{"roles", " api , gc"}, {"bus", "postgres"}},
                       env_of({{"DUCKMESH_CATALOG_URL", "postgresql://dm:hunter2@db/c"},
                               {"DUCKMESH_BUS_URL", "postgresql://bus:s3cret@busdb/b"},
                               {"DUCKMESH_NODE_ID", "api-7"},
                               {"DUCKMESH_COMMIT_LEASE_MS", "5000"}}),
                       "");
  EXPECT_TRUE(c.roles.api && c.roles.gc);
  EXPECT_FALSE(c.roles.coordinator || c.roles.compactor);
  EXPECT_EQ(c.node_id, "api-7");
  EXPECT_EQ(c.commit_lease_ms, 5000);
  const auto printed = c.to_json();
  EXPECT_EQ(printed.at("roles").as_string(), "api,gc");
  EXPECT_EQ(printed.at("bus_url").as_string(), "postgresql://bus:***@busdb/b");
  EXPECT_EQ(load_config({{"roles", "api,all"}}, env_of({}), "").roles.to_string(),
            "api,coordinator,compactor,gc");

  // Some roles only on a bus other nodes share; a shared bus needs a database.
  EXPECT_NE(error_of({{"roles", "coordinator"}}).find("set bus to postgres"), std::string::npos);
  EXPECT_NE(error_of({{"bus", "postgres"}}).find("'bus_url' is required"), std::string::npos);
  EXPECT_NE(error_of({{"roles", "api,search"}}).find("unknown role 'search'"), std::string::npos);
  EXPECT_NE(error_of({{"roles", ","}}).find("setting 'roles'"), std::string::npos);
  EXPECT_NE(error_of({{"bus", "kafka"}}).find("local or postgres"), std::string::npos);
  EXPECT_NE(error_of({{"commit_lease_ms", "10"}}).find("commit_lease_ms"), std::string::npos);
}

TEST(Config, FlagNames) {
  EXPECT_EQ(flag_name("data_dir"), "--data-dir");
  EXPECT_EQ(flag_name("listen"), "--listen");
}

}  // namespace
}  // namespace duckmesh::app
