// Config: every setting of the service in one struct.
//
// Filled, lowest to highest precedence, from defaults, an optional JSON config
// file, the environment (DUCKMESH_*, plus the seed-compatible ONTO_SERVER_URL,
// ONTO_SERVER_TIMEOUT, USE_MOCK_ONTO_SERVER and DUCKDB_PATH), and command-line
// flags. Every value is validated; a bad one is refused with an
// invalid_input Error naming the setting, where it came from, and what is
// allowed.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace duckmesh::app {

// Quotas of one product (ingest/quota.hpp); 0 = no limit.
struct ProductQuota {
  std::uint64_t events_per_day = 0;
  std::uint64_t stored_bytes = 0;
};

// What a node does (`roles`): serve the HTTP API, commit the ingest bus,
// compact tables, expire snapshots and collect garbage. Default: all.
struct Roles {
  bool api = true;
  bool coordinator = true;
  bool compactor = true;
  bool gc = true;

  bool all() const { return api && coordinator && compactor && gc; }
  std::string to_string() const;  // "api,coordinator,compactor,gc"
};

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string data_dir = "./duckmesh-data";
  std::size_t io_threads = 2;
  std::size_t worker_threads = 8;
  std::size_t worker_queue_limit = 1024;
  std::size_t body_limit_bytes = 16 * 1024 * 1024;
  std::int64_t read_timeout_ms = 30'000;
  std::int64_t idle_timeout_ms = 60'000;
  std::size_t header_limit_bytes = 64 * 1024;
  // HTTP hardening (http/hardening.hpp, http/server.hpp).
  std::vector<std::string> trusted_hosts;  // Host names served; empty: any
  std::vector<std::string> cors_origins;   // browser origins allowed; empty: CORS off
  std::string tls_cert_file;               // PEM; with tls_key_file, HTTPS only
  std::string tls_key_file;
  // Token buckets (http/rate_limit.hpp): requests per second, 0 = no limit;
  // burst 0 = twice the rate (at least 1).
  double rate_limit_ip = 0;
  std::size_t rate_limit_ip_burst = 0;
  double rate_limit_key = 0;
  std::size_t rate_limit_key_burst = 0;
  // Per-product quotas: defaults for every product, and overrides by name.
  std::uint64_t quota_events_per_day = 0;
  std::uint64_t quota_stored_bytes = 0;
  std::map<std::string, ProductQuota> product_quotas;
  std::int64_t quota_refresh_ms = 5'000;  // committed events and stored bytes read again
  std::int64_t shutdown_grace_ms = 10'000;
  std::string log_level = "info";
  std::string duckdb_path = ":memory:";  // working database of the service
  std::string duckdb_memory_limit;       // e.g. "4GB"; empty: DuckDB's default
  std::size_t duckdb_threads = 0;        // 0: DuckDB's default (all cores)
  std::size_t commit_max_batch_events = 100'000;
  std::int64_t commit_max_batch_age_ms = 200;
  std::size_t ingest_max_backlog = 2'000'000;
  // Resident memory above which ingest answers 503: "auto" (80% of the
  // memory available to the process), "0" (none), a size or a percentage;
  // see ingest_memory_limit_bytes.
  std::string ingest_max_memory = "auto";
  // /monitoring/health's disk check: degraded, then unhealthy, below these
  // shares of the data directory's filesystem free (percent; 0: never).
  int health_disk_degraded_free_percent = 10;
  int health_disk_unhealthy_free_percent = 2;
  // Maintenance (compaction, snapshot expiry, gc); see maintenance/*.hpp.
  bool maintenance_enabled = true;
  std::int64_t maintenance_interval_ms = 60'000;
  std::int64_t compact_target_file_bytes = std::int64_t{128} << 20;
  std::int64_t compact_target_file_rows = 1'000'000;
  std::int64_t compact_small_file_bytes = std::int64_t{32} << 20;
  std::int64_t compact_small_file_rows = 250'000;
  std::int64_t retention_max_age_s = 7 * 24 * 3600;
  std::int64_t idempotency_window_s = 7 * 24 * 3600;
  std::size_t retention_min_snapshots = 10;
  std::int64_t gc_grace_s = 3600;
  std::string onto_server_url = "http://localhost:8001";
  double onto_server_timeout_s = 5.0;
  bool use_mock_onto_server = false;
  // Which catalog: "sqlite" (<data_dir>/catalog.sqlite) or "postgres"
  // (a PostgreSQL database at catalog_url, shareable by several nodes).
  std::string catalog = "sqlite";
  std::string catalog_url;  // libpq connection string or postgresql:// URI
  std::size_t catalog_pool_size = 4;
  std::int64_t catalog_statement_timeout_ms = 30'000;
  // Which ingest bus: "local" (a log under <data_dir>/log, one process) or
  // "postgres" (tables in the PostgreSQL database at bus_url, shared by
  // every node; default bus_url: catalog_url).
  std::string bus = "local";
  std::string bus_url;
  std::size_t bus_pool_size = 4;
  Roles roles;
  // Name of this node's coordinator among others on a shared bus (default:
  // host name and process id).
  std::string node_id;
  // How long a coordinator holds the records (and tables) it claimed before
  // another may take them over; a crashed coordinator's tables wait this long.
  std::int64_t commit_lease_ms = 120'000;
  // Where data files live: "local" (<data_dir>/store) or "s3".
  std::string store = "local";
  std::string s3_endpoint;  // http(s)://host[:port]
  std::string s3_bucket;
  std::string s3_prefix;
  std::string s3_region = "us-east-1";
  std::string s3_access_key;
  std::string s3_secret_key;
  bool s3_path_style = true;
  std::uint64_t s3_cache_bytes = 4ull << 30;  // local copies of data files for queries
  std::uint64_t s3_multipart_threshold_bytes = 64ull << 20;  // larger files go in parts
  std::uint64_t s3_part_size_bytes = 16ull << 20;
  std::string ontology_dir;  // bundled definitions; empty: found beside the binary
  double onto_cache_ttl_s = 60.0;
  double onto_refresh_interval_s = 30.0;
  std::size_t onto_breaker_failures = 3;
  double onto_breaker_cooldown_s = 30.0;
  std::string default_product = "default";  // product the unprefixed /ops routes use
  // Authentication (see auth/*.hpp). Off only for local trials.
  bool insecure_no_auth = false;
  std::string jwt_hs256_secret;     // shared secret of HS256 tokens
  std::string jwt_public_key_file;  // PEM RSA public key of RS256 tokens
  std::string jwt_jwks_file;        // JWKS of keys selected by the token's kid
  std::string jwt_audience;         // required aud (empty: not checked)
  std::string jwt_issuer;           // required iss (empty: not checked)
  std::int64_t jwt_leeway_s = 30;   // clock skew allowed on exp, nbf and iat

  std::string listen() const { return listen_host + ":" + std::to_string(listen_port); }
  // Every setting with its value, secrets masked (credentials in URLs).
  boost::json::object to_json() const;
};

// One setting: its key (also the config-file key and, as --key-with-dashes,
// the flag), its environment variable(s), help text, and how to apply a value.
struct Setting {
  std::string key;
  std::vector<std::string> env;
  std::string help;
  std::function<void(Config&, const std::string&)> apply;  // throws invalid_input
};

const std::vector<Setting>& settings();

// Whether a setting is also a bare switch on the command line (--key alone
// means true), e.g. --insecure-no-auth.
bool is_switch(const std::string& key);

// The flag spelling of a key: "data_dir" -> "--data-dir".
std::string flag_name(const std::string& key);

// The ingest_max_memory setting in bytes, given the memory `available` to
// the process (0 when unknown): "auto" is 80% of it, "N%" that share of it,
// "0" no limit, otherwise a size such as 512MB, 4GB or 2GiB (units KB, MB,
// GB, TB in powers of 1000, KiB, MiB, GiB, TiB in powers of 1024, none:
// bytes). A share of an unknown amount is 0 (no limit). Throws
// invalid_input naming the setting for anything else.
std::uint64_t ingest_memory_limit_bytes(const std::string& value, std::uint64_t available);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// Builds the config. `flags` maps setting keys to values given on the command
// line; `config_file` is a JSON object of key -> value (empty: none; the
// DUCKMESH_CONFIG variable names one when no flag does).
Config load_config(const std::map<std::string, std::string>& flags, const EnvLookup& env,
                   std::string config_file);

}  // namespace duckmesh::app
