#include "app/config.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value_from.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/json_text.hpp"
#include "pg/connection_pool.hpp"

namespace duckmesh::app {
namespace {

Error bad_value(const std::string& key, const std::string& value, const std::string& allowed) {
  return Error(ErrorCode::invalid_input,
               "setting '" + key + "' has invalid value '" + value + "': " + allowed,
               {{"setting", key}, {"value", value}, {"allowed", allowed}});
}

template <class Int>
Int parse_int(const std::string& key, const std::string& value, Int min, Int max) {
  Int out{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || out < min || out > max) {
    throw bad_value(key, value,
                    "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return out;
}

double parse_positive_double(const std::string& key, const std::string& value) {
  char* end = nullptr;
  double out = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !(out > 0) || out > 3600) {
    throw bad_value(key, value, "a number of seconds greater than 0 and at most 3600");
  }
  return out;
}

// Requests per second for a rate limit: 0 (off) up to a million.
double parse_rate(const std::string& key, const std::string& value) {
  char* end = nullptr;
  double out = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !(out >= 0) || out > 1e6) {
    throw bad_value(key, value, "requests per second from 0 (no limit) to 1000000");
  }
  return out;
}

// {"product": {"events_per_day": N, "stored_bytes": N}, ...}
std::map<std::string, ProductQuota> parse_product_quotas(const std::string& value) {
  static const std::string allowed =
      "a JSON object of product name -> {\"events_per_day\": N, \"stored_bytes\": N} with "
      "whole numbers of 0 or more";
  std::map<std::string, ProductQuota> out;
  if (value.empty()) return out;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(value, ec);
  if (ec || !parsed.is_object()) throw bad_value("product_quotas", value, allowed);
  for (const auto& [name, entry] : parsed.as_object()) {
    if (!entry.is_object()) throw bad_value("product_quotas", value, allowed);
    ProductQuota q;
    for (const auto& [field, number] : entry.as_object()) {
      std::uint64_t* target = field == "events_per_day" ? &q.events_per_day
                              : field == "stored_bytes" ? &q.stored_bytes
                                                        : nullptr;
      if (target == nullptr ||
          !(number.is_uint64() || (number.is_int64() && number.as_int64() >= 0))) {
        throw bad_value(
            "product_quotas", value,
            allowed + " ('" + std::string(name) + "." + std::string(field) + "' is not one)");
      }
      *target = number.to_number<std::uint64_t>();
    }
    out[std::string(name)] = q;
  }
  return out;
}

// "a, b,,c" -> {"a", "b", "c"}: entries trimmed, empty ones dropped.
std::vector<std::string> parse_list(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    std::string item = value.substr(start, end - start);
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
    start = end + 1;
  }
  return out;
}

bool parse_bool(const std::string& key, const std::string& value) {
  std::string v = value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  throw bad_value(key, value, "true or false (also 1/0, yes/no, on/off)");
}

Roles parse_roles(const std::string& value) {
  const char* allowed = "a comma list of api, coordinator, compactor, gc (or all)";
  Roles roles{false, false, false, false};
  auto names = parse_list(value);
  if (names.empty()) throw bad_value("roles", value, allowed);
  for (const auto& name : names) {
    if (name == "all") {
      roles = Roles{};
    } else if (name == "api") {
      roles.api = true;
    } else if (name == "coordinator") {
      roles.coordinator = true;
    } else if (name == "compactor") {
      roles.compactor = true;
    } else if (name == "gc") {
      roles.gc = true;
    } else {
      throw Error(ErrorCode::invalid_input,
                  "setting 'roles': unknown role '" + name + "'; allowed: " + allowed,
                  {{"setting", "roles"}, {"value", value}});
    }
  }
  return roles;
}

void parse_listen(Config& c, const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw bad_value("listen", value, "HOST:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free one)");
  }
  std::string host = value.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  c.listen_port = parse_int<std::uint16_t>("listen", value.substr(colon + 1), 0, 65535);
  c.listen_host = host;
}

std::string mask_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

}  // namespace

std::uint64_t ingest_memory_limit_bytes(const std::string& value, std::uint64_t available) {
  static const std::string kAllowed =
      "auto, 0 (no limit), a size such as 512MB, 4GB or 2GiB, or a share of the memory "
      "available such as 70%";
  // share% of available, exactly (available * share could overflow).
  auto share_of = [available](std::uint64_t share) {
    return available / 100 * share + available % 100 * share / 100;
  };
  if (value == "auto") return share_of(80);
  const auto digits_end = value.find_first_not_of("0123456789");
  if (digits_end == 0 || value.empty()) throw bad_value("ingest_max_memory", value, kAllowed);
  const std::string unit = digits_end == std::string::npos ? "" : value.substr(digits_end);
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.substr(0, digits_end).size(),
                                   number);
  if (ec != std::errc()) throw bad_value("ingest_max_memory", value, kAllowed);
  if (unit == "%") {
    if (number < 1 || number > 100) throw bad_value("ingest_max_memory", value, kAllowed);
    return share_of(number);
  }
  static const std::map<std::string, std::uint64_t> kUnits = {
      {"", 1},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000},
      {"TB", 1000ull * 1000 * 1000 * 1000},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"TiB", 1ull << 40}};
  const auto factor = kUnits.find(unit);
  if (factor == kUnits.end() || number > UINT64_MAX / factor->second) {
    throw bad_value("ingest_max_memory", value, kAllowed);
  }
  return number * factor->second;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      {"listen",
       {"DUCKMESH_LISTEN"},
       "address to serve HTTP on, HOST:PORT (port 0: any free port)",
       parse_listen},
      {"data_dir",
       {"DUCKMESH_DATA_DIR"},
       "directory holding the catalog, ingest log and data files",
       [](Config& c, const std::string& v) {
         if (v.empty()) throw bad_value("data_dir", v, "a directory path");
         c.data_dir = v;
       }},
      {"io_threads",
       {"DUCKMESH_IO_THREADS"},
       "threads that read and write HTTP connections",
       [](Config& c, const std::string& v) {
         c.io_threads = parse_int<std::size_t>("io_threads", v, 1, 256);
       }},
      {"worker_threads",
       {"DUCKMESH_WORKER_THREADS"},
       "threads that run request handlers (queries, ingest) off the I/O threads",
       [](Config& c, const std::string& v) {
         c.worker_threads = parse_int<std::size_t>("worker_threads", v, 1, 1024);
       }},
      {"worker_queue_limit",
       {"DUCKMESH_WORKER_QUEUE_LIMIT"},
       "requests allowed to wait for a worker before the server answers 503",
       [](Config& c, const std::string& v) {
         c.worker_queue_limit = parse_int<std::size_t>("worker_queue_limit", v, 1, 1'000'000);
       }},
      {"body_limit_bytes",
       {"DUCKMESH_BODY_LIMIT_BYTES"},
       "largest request body accepted (413 above)",
       [](Config& c, const std::string& v) {
         c.body_limit_bytes =
             parse_int<std::size_t>("body_limit_bytes", v, 1024, std::size_t{1} << 32);
       }},
      {"read_timeout_ms",
       {"DUCKMESH_READ_TIMEOUT_MS"},
       "time a client has to send a whole request (slow clients are dropped)",
       [](Config& c, const std::string& v) {
         c.read_timeout_ms = parse_int<std::int64_t>("read_timeout_ms", v, 10, 3'600'000);
       }},
      {"idle_timeout_ms",
       {"DUCKMESH_IDLE_TIMEOUT_MS"},
       "time an idle keep-alive connection stays open",
       [](Config& c, const std::string& v) {
         c.idle_timeout_ms = parse_int<std::int64_t>("idle_timeout_ms", v, 10, 3'600'000);
       }},
      {"header_limit_bytes",
       {"DUCKMESH_HEADER_LIMIT_BYTES"},
       "largest request line plus headers accepted (413 above)",
       [](Config& c, const std::string& v) {
         c.header_limit_bytes =
             parse_int<std::size_t>("header_limit_bytes", v, 1024, std::size_t{1} << 20);
       }},
      {"trusted_hosts",
       {"DUCKMESH_TRUSTED_HOSTS"},
       "comma-separated Host names served (\"*.example.com\" for subdomains); others get 400; "
       "empty: any",
       [](Config& c, const std::string& v) { c.trusted_hosts = parse_list(v); }},
      {"cors_origins",
       {"DUCKMESH_CORS_ORIGINS"},
       "comma-separated browser origins (scheme://host[:port], or *) allowed to call the API; "
       "empty: CORS off",
       [](Config& c, const std::string& v) { c.cors_origins = parse_list(v); }},
      {"tls_cert_file",
       {"DUCKMESH_TLS_CERT_FILE"},
       "PEM certificate chain; with tls_key_file the server speaks HTTPS only",
       [](Config& c, const std::string& v) { c.tls_cert_file = v; }},
      {"tls_key_file",
       {"DUCKMESH_TLS_KEY_FILE"},
       "PEM private key of tls_cert_file",
       [](Config& c, const std::string& v) { c.tls_key_file = v; }},
      {"rate_limit_ip",
       {"DUCKMESH_RATE_LIMIT_IP"},
       "requests per second each client IP address may sustain (429 above); 0: no limit",
       [](Config& c, const std::string& v) { c.rate_limit_ip = parse_rate("rate_limit_ip", v); }},
      {"rate_limit_ip_burst",
       {"DUCKMESH_RATE_LIMIT_IP_BURST"},
       "requests a client IP address may send at once before rate_limit_ip applies; 0: twice "
       "the rate",
       [](Config& c, const std::string& v) {
         c.rate_limit_ip_burst = parse_int<std::size_t>("rate_limit_ip_burst", v, 0, 10'000'000);
       }},
      {"rate_limit_key",
       {"DUCKMESH_RATE_LIMIT_KEY"},
       "requests per second each API key or token subject may sustain (429 above); 0: no limit",
       [](Config& c, const std::string& v) { c.rate_limit_key = parse_rate("rate_limit_key", v); }},
      {"rate_limit_key_burst",
       {"DUCKMESH_RATE_LIMIT_KEY_BURST"},
       "requests a credential may send at once before rate_limit_key applies; 0: twice the rate",
       [](Config& c, const std::string& v) {
         c.rate_limit_key_burst = parse_int<std::size_t>("rate_limit_key_burst", v, 0, 10'000'000);
       }},
      {"quota_events_per_day",
       {"DUCKMESH_QUOTA_EVENTS_PER_DAY"},
       "events each product may ingest per UTC day (429 quota_exceeded above); 0: no limit",
       [](Config& c, const std::string& v) {
         c.quota_events_per_day =
             parse_int<std::uint64_t>("quota_events_per_day", v, 0, std::uint64_t{1} << 62);
       }},
      {"quota_stored_bytes",
       {"DUCKMESH_QUOTA_STORED_BYTES"},
       "bytes of live data each product may store before ingest is refused; 0: no limit",
       [](Config& c, const std::string& v) {
         c.quota_stored_bytes =
             parse_int<std::uint64_t>("quota_stored_bytes", v, 0, std::uint64_t{1} << 62);
       }},
      {"product_quotas",
       {"DUCKMESH_PRODUCT_QUOTAS"},
       "quotas of named products over the defaults, as JSON: "
       "{\"sales\":{\"events_per_day\":1000000,\"stored_bytes\":10737418240}}",
       [](Config& c, const std::string& v) { c.product_quotas = parse_product_quotas(v); }},
      {"quota_refresh_ms",
       {"DUCKMESH_QUOTA_REFRESH_MS"},
       "how often a node reads again from the catalog the events every node committed "
       "today and the bytes each product stores (for the quotas)",
       [](Config& c, const std::string& v) {
         c.quota_refresh_ms = parse_int<std::int64_t>("quota_refresh_ms", v, 1, 3'600'000);
       }},
      {"shutdown_grace_ms",
       {"DUCKMESH_SHUTDOWN_GRACE_MS"},
       "on SIGTERM/SIGINT, how long in-flight requests may finish before exit",
       [](Config& c, const std::string& v) {
         c.shutdown_grace_ms = parse_int<std::int64_t>("shutdown_grace_ms", v, 0, 3'600'000);
       }},
      {"log_level",
       {"DUCKMESH_LOG_LEVEL"},
       "trace, debug, info, warn or error",
       [](Config& c, const std::string& v) {
         static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
         if (std::find(std::begin(levels), std::end(levels), v) == std::end(levels)) {
           throw bad_value("log_level", v, "one of trace, debug, info, warn, error");
         }
         c.log_level = v;
       }},
      {"duckdb_path",
       {"DUCKMESH_DUCKDB_PATH", "DUCKDB_PATH"},
       "DuckDB database file for the service's own work (:memory: keeps it in memory)",
       [](Config& c, const std::string& v) {
         if (v.empty()) throw bad_value("duckdb_path", v, "a file path or :memory:");
         c.duckdb_path = v;
       }},
      {"duckdb_memory_limit",
       {"DUCKMESH_DUCKDB_MEMORY_LIMIT"},
       "memory limit for DuckDB, e.g. 4GB (empty: DuckDB's default)",
       [](Config& c, const std::string& v) {
         if (!v.empty()) {
           auto digits = v.find_first_not_of("0123456789.");
           std::string unit = digits == std::string::npos ? "" : v.substr(digits);
           static const char* units[] = {"KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "%"};
           if (digits == 0 ||
               std::find(std::begin(units), std::end(units), unit) == std::end(units)) {
             throw bad_value("duckdb_memory_limit", v, "a size such as 512MB, 4GB or 2GiB");
           }
         }
         c.duckdb_memory_limit = v;
       }},
      {"duckdb_threads",
       {"DUCKMESH_DUCKDB_THREADS"},
       "threads DuckDB may use (0: all cores)",
       [](Config& c, const std::string& v) {
         c.duckdb_threads = parse_int<std::size_t>("duckdb_threads", v, 0, 1024);
       }},
      {"commit_max_batch_events",
       {"DUCKMESH_COMMIT_MAX_BATCH_EVENTS"},
       "the coordinator commits once this many events wait",
       [](Config& c, const std::string& v) {
         c.commit_max_batch_events =
             parse_int<std::size_t>("commit_max_batch_events", v, 1, 10'000'000);
       }},
      {"commit_max_batch_age_ms",
       {"DUCKMESH_COMMIT_MAX_BATCH_AGE_MS"},
       "the coordinator commits once the oldest waiting event is this old",
       [](Config& c, const std::string& v) {
         c.commit_max_batch_age_ms =
             parse_int<std::int64_t>("commit_max_batch_age_ms", v, 1, 600'000);
       }},
      {"ingest_max_backlog",
       {"DUCKMESH_INGEST_MAX_BACKLOG"},
       "events waiting for commit above which ingest answers 503 with Retry-After",
       [](Config& c, const std::string& v) {
         c.ingest_max_backlog = parse_int<std::size_t>("ingest_max_backlog", v, 1, 1'000'000'000);
       }},
      {"ingest_max_memory",
       {"DUCKMESH_INGEST_MAX_MEMORY"},
       "resident memory of the service above which ingest answers 503 with Retry-After: auto "
       "(80% of the memory available), 0 (no limit), a size such as 4GB, or a share such as 70%",
       [](Config& c, const std::string& v) {
         ingest_memory_limit_bytes(v, 0);  // refuses a malformed value now, not at serve
         c.ingest_max_memory = v;
       }},
      {"health_disk_degraded_free_percent",
       {"DUCKMESH_HEALTH_DISK_DEGRADED_FREE_PERCENT"},
       "health reports the disk degraded below this share of its filesystem free (0-100, 0: "
       "never)",
       [](Config& c, const std::string& v) {
         c.health_disk_degraded_free_percent =
             parse_int<int>("health_disk_degraded_free_percent", v, 0, 100);
       }},
      {"health_disk_unhealthy_free_percent",
       {"DUCKMESH_HEALTH_DISK_UNHEALTHY_FREE_PERCENT"},
       "health reports the disk unhealthy (503) below this share of its filesystem free (0-100, "
       "0: never; at most health_disk_degraded_free_percent)",
       [](Config& c, const std::string& v) {
         c.health_disk_unhealthy_free_percent =
             parse_int<int>("health_disk_unhealthy_free_percent", v, 0, 100);
       }},
      {"maintenance_enabled",
       {"DUCKMESH_MAINTENANCE_ENABLED"},
       "run compaction, snapshot expiry and gc in the background of serve",
       [](Config& c, const std::string& v) {
         c.maintenance_enabled = parse_bool("maintenance_enabled", v);
       }},
      {"maintenance_interval_ms",
       {"DUCKMESH_MAINTENANCE_INTERVAL_MS"},
       "time between two background maintenance passes (compact, expire, idempotency purge, "
       "gc)",
       [](Config& c, const std::string& v) {
         c.maintenance_interval_ms =
             parse_int<std::int64_t>("maintenance_interval_ms", v, 100, 86'400'000);
       }},
      {"compact_target_file_bytes",
       {"DUCKMESH_COMPACT_TARGET_FILE_BYTES"},
       "compaction packs small files into files of at most this many bytes (input size)",
       [](Config& c, const std::string& v) {
         c.compact_target_file_bytes =
             parse_int<std::int64_t>("compact_target_file_bytes", v, 1024, std::int64_t{1} << 40);
       }},
      {"compact_target_file_rows",
       {"DUCKMESH_COMPACT_TARGET_FILE_ROWS"},
       "compaction packs small files into files of at most this many rows",
       [](Config& c, const std::string& v) {
         c.compact_target_file_rows =
             parse_int<std::int64_t>("compact_target_file_rows", v, 1, 1'000'000'000);
       }},
      {"compact_small_file_bytes",
       {"DUCKMESH_COMPACT_SMALL_FILE_BYTES"},
       "a file below this many bytes (and below compact_small_file_rows) is merged",
       [](Config& c, const std::string& v) {
         c.compact_small_file_bytes =
             parse_int<std::int64_t>("compact_small_file_bytes", v, 1, std::int64_t{1} << 40);
       }},
      {"compact_small_file_rows",
       {"DUCKMESH_COMPACT_SMALL_FILE_ROWS"},
       "a file below this many rows (and below compact_small_file_bytes) is merged",
       [](Config& c, const std::string& v) {
         c.compact_small_file_rows =
             parse_int<std::int64_t>("compact_small_file_rows", v, 1, 1'000'000'000);
       }},
      {"retention_max_age_s",
       {"DUCKMESH_RETENTION_MAX_AGE_S"},
       "snapshots older than this many seconds expire (beyond retention_min_snapshots)",
       [](Config& c, const std::string& v) {
         c.retention_max_age_s =
             parse_int<std::int64_t>("retention_max_age_s", v, 0, std::int64_t{100} * 365 * 86'400);
       }},
      {"idempotency_window_s",
       {"DUCKMESH_IDEMPOTENCY_WINDOW_S"},
       "how long a committed idempotency key, and an Idempotency-Key request's answer, is "
       "remembered (seconds)",
       [](Config& c, const std::string& v) {
         c.idempotency_window_s =
             parse_int<std::int64_t>("idempotency_window_s", v, 1, std::int64_t{10} * 365 * 86'400);
       }},
      {"retention_min_snapshots",
       {"DUCKMESH_RETENTION_MIN_SNAPSHOTS"},
       "the newest snapshots of each product that never expire, whatever their age",
       [](Config& c, const std::string& v) {
         c.retention_min_snapshots =
             parse_int<std::size_t>("retention_min_snapshots", v, 1, 100'000'000);
       }},
      {"gc_grace_s",
       {"DUCKMESH_GC_GRACE_S"},
       "seconds gc waits after a file stops being referenced (or an orphan was written) "
       "before deleting it",
       [](Config& c, const std::string& v) {
         c.gc_grace_s = parse_int<std::int64_t>("gc_grace_s", v, 0, std::int64_t{365} * 86'400);
       }},
      {"onto_server_url",
       {"ONTO_SERVER_URL", "DUCKMESH_ONTO_SERVER_URL"},
       "base URL of the ontology server that declares the product's tables",
       [](Config& c, const std::string& v) {
         if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
           throw bad_value("onto_server_url", v, "an http:// or https:// URL");
         }
         c.onto_server_url = v;
       }},
      {"onto_server_timeout",
       {"ONTO_SERVER_TIMEOUT", "DUCKMESH_ONTO_SERVER_TIMEOUT"},
       "seconds to wait for the ontology server",
       [](Config& c, const std::string& v) {
         c.onto_server_timeout_s = parse_positive_double("onto_server_timeout", v);
       }},
      {"use_mock_onto_server",
       {"USE_MOCK_ONTO_SERVER", "DUCKMESH_USE_MOCK_ONTO_SERVER"},
       "use the bundled ontology definitions only, without asking the server",
       [](Config& c, const std::string& v) {
         c.use_mock_onto_server = parse_bool("use_mock_onto_server", v);
       }},
      {"catalog",
       {"DUCKMESH_CATALOG"},
       "which catalog: sqlite (<data_dir>/catalog.sqlite) or postgres (a PostgreSQL database at "
       "catalog_url, shareable by several nodes)",
       [](Config& c, const std::string& v) {
         if (v != "sqlite" && v != "postgres") throw bad_value("catalog", v, "sqlite or postgres");
         c.catalog = v;
       }},
      {"catalog_url",
       {"DUCKMESH_CATALOG_URL"},
       "PostgreSQL catalog: libpq connection string or postgresql://user:password@host:port/db "
       "(the password is never logged)",
       [](Config& c, const std::string& v) {
         if (v.empty()) {
           throw bad_value("catalog_url", v, "a libpq connection string or a postgresql:// URI");
         }
         c.catalog_url = v;
       }},
      {"catalog_pool_size",
       {"DUCKMESH_CATALOG_POOL_SIZE"},
       "PostgreSQL catalog: connections one node keeps open at most",
       [](Config& c, const std::string& v) {
         c.catalog_pool_size = parse_int<std::size_t>("catalog_pool_size", v, 1, 1024);
       }},
      {"catalog_statement_timeout_ms",
       {"DUCKMESH_CATALOG_STATEMENT_TIMEOUT_MS"},
       "PostgreSQL catalog: longest a catalog statement, lock waits included, may run (0: no "
       "limit); beyond it the call fails as unavailable",
       [](Config& c, const std::string& v) {
         c.catalog_statement_timeout_ms =
             parse_int<std::int64_t>("catalog_statement_timeout_ms", v, 0, 3'600'000);
       }},
      {"bus",
       {"DUCKMESH_BUS"},
       "which ingest bus: local (a log under <data_dir>/log, one process) or postgres (tables in "
       "the PostgreSQL database at bus_url, shared by several nodes)",
       [](Config& c, const std::string& v) {
         if (v != "local" && v != "postgres") throw bad_value("bus", v, "local or postgres");
         c.bus = v;
       }},
      {"bus_url",
       {"DUCKMESH_BUS_URL"},
       "PostgreSQL bus: libpq connection string or postgresql:// URI (default: catalog_url)",
       [](Config& c, const std::string& v) {
         if (v.empty()) {
           throw bad_value("bus_url", v, "a libpq connection string or a postgresql:// URI");
         }
         c.bus_url = v;
       }},
      {"bus_pool_size",
       {"DUCKMESH_BUS_POOL_SIZE"},
       "PostgreSQL bus: connections one node keeps open at most",
       [](Config& c, const std::string& v) {
         c.bus_pool_size = parse_int<std::size_t>("bus_pool_size", v, 1, 1024);
       }},
      {"roles",
       {"DUCKMESH_ROLES"},
       "what this node does, a comma list of api, coordinator, compactor, gc (default: all); "
       "anything but all needs bus postgres",
       [](Config& c, const std::string& v) { c.roles = parse_roles(v); }},
      {"node_id",
       {"DUCKMESH_NODE_ID"},
       "name of this node's coordinator on a shared bus (default: host name and process id)",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 200) throw bad_value("node_id", v, "1 to 200 characters");
         c.node_id = v;
       }},
      {"commit_lease_ms",
       {"DUCKMESH_COMMIT_LEASE_MS"},
       "how long a coordinator holds the records and tables it claimed; a crashed "
       "coordinator's tables move to another after this long",
       [](Config& c, const std::string& v) {
         c.commit_lease_ms = parse_int<std::int64_t>("commit_lease_ms", v, 1000, 3'600'000);
       }},
      {"store",
       {"DUCKMESH_STORE"},
       "where data files live: local (<data_dir>/store) or s3 (an S3-compatible server)",
       [](Config& c, const std::string& v) {
         if (v != "local" && v != "s3") throw bad_value("store", v, "local or s3");
         c.store = v;
       }},
      {"s3_endpoint",
       {"DUCKMESH_S3_ENDPOINT", "AWS_ENDPOINT_URL"},
       "S3-compatible server, http(s)://host[:port]",
       [](Config& c, const std::string& v) {
         if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
           throw bad_value("s3_endpoint", v, "an http:// or https:// URL");
         }
         c.s3_endpoint = v;
       }},
      {"s3_bucket",
       {"DUCKMESH_S3_BUCKET"},
       "bucket of the data files",
       [](Config& c, const std::string& v) { c.s3_bucket = v; }},
      {"s3_prefix",
       {"DUCKMESH_S3_PREFIX"},
       "key prefix inside the bucket (optional)",
       [](Config& c, const std::string& v) {
         std::string p = v;
         while (!p.empty() && p.front() == '/') p.erase(p.begin());
         while (!p.empty() && p.back() == '/') p.pop_back();
         c.s3_prefix = p;
       }},
      {"s3_region",
       {"DUCKMESH_S3_REGION", "AWS_REGION"},
       "region the requests are signed for",
       [](Config& c, const std::string& v) { c.s3_region = v; }},
      {"s3_access_key",
       {"DUCKMESH_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID"},
       "access key id",
       [](Config& c, const std::string& v) { c.s3_access_key = v; }},
      {"s3_secret_key",
       {"DUCKMESH_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"},
       "secret access key (never logged)",
       [](Config& c, const std::string& v) { c.s3_secret_key = v; }},
      {"s3_path_style",
       {"DUCKMESH_S3_PATH_STYLE"},
       "path-style addressing (host/bucket/key); false: virtual-host style (bucket.host/key)",
       [](Config& c, const std::string& v) { c.s3_path_style = parse_bool("s3_path_style", v); }},
      {"s3_cache_bytes",
       {"DUCKMESH_S3_CACHE_BYTES"},
       "bytes of local copies of data files kept for queries (least recently used go first)",
       [](Config& c, const std::string& v) {
         c.s3_cache_bytes = parse_int<std::uint64_t>("s3_cache_bytes", v, 1, 1ull << 50);
       }},
      {"s3_multipart_threshold_bytes",
       {"DUCKMESH_S3_MULTIPART_THRESHOLD_BYTES"},
       "data files larger than this are uploaded in parts",
       [](Config& c, const std::string& v) {
         c.s3_multipart_threshold_bytes =
             parse_int<std::uint64_t>("s3_multipart_threshold_bytes", v, 1, 1ull << 50);
       }},
      {"s3_part_size_bytes",
       {"DUCKMESH_S3_PART_SIZE_BYTES"},
       "size of each part of a multipart upload (S3 allows 5 MiB to 5 GiB)",
       [](Config& c, const std::string& v) {
         c.s3_part_size_bytes =
             parse_int<std::uint64_t>("s3_part_size_bytes", v, 5ull << 20, 5ull << 30);
       }},
      {"ontology_dir",
       {"DUCKMESH_ONTOLOGY_DIR"},
       "folder of bundled ontology definitions, the fallback when the server fails (empty: "
       "examples/ontology found beside the binary)",
       [](Config& c, const std::string& v) { c.ontology_dir = v; }},
      {"onto_cache_ttl",
       {"ONTO_CACHE_TTL", "DUCKMESH_ONTO_CACHE_TTL"},
       "seconds a definition fetched from the ontology server is used without asking again",
       [](Config& c, const std::string& v) {
         c.onto_cache_ttl_s = parse_positive_double("onto_cache_ttl", v);
       }},
      {"onto_refresh_interval",
       {"ONTO_REFRESH_INTERVAL", "DUCKMESH_ONTO_REFRESH_INTERVAL"},
       "seconds between background refreshes of the cached definitions",
       [](Config& c, const std::string& v) {
         c.onto_refresh_interval_s = parse_positive_double("onto_refresh_interval", v);
       }},
      {"onto_breaker_failures",
       {"ONTO_BREAKER_FAILURES", "DUCKMESH_ONTO_BREAKER_FAILURES"},
       "consecutive ontology server failures that open the circuit breaker",
       [](Config& c, const std::string& v) {
         c.onto_breaker_failures = parse_int<std::size_t>("onto_breaker_failures", v, 1, 1000);
       }},
      {"onto_breaker_cooldown",
       {"ONTO_BREAKER_COOLDOWN", "DUCKMESH_ONTO_BREAKER_COOLDOWN"},
       "seconds an open circuit breaker waits before it lets one probe through",
       [](Config& c, const std::string& v) {
         c.onto_breaker_cooldown_s = parse_positive_double("onto_breaker_cooldown", v);
       }},
      {"default_product",
       {"DUCKMESH_DEFAULT_PRODUCT"},
       "data product created on first start from the ontology; the /ops and /admin routes use it",
       [](Config& c, const std::string& v) {
         static const std::string allowed =
             "1 to 63 characters of lowercase letters, digits and '_', starting with a letter";
         bool ok = !v.empty() && v.size() <= 63 && v[0] >= 'a' && v[0] <= 'z' &&
                   std::all_of(v.begin(), v.end(), [](char ch) {
                     return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
                   });
         if (!ok) throw bad_value("default_product", v, allowed);
         c.default_product = v;
       }},
      {"insecure_no_auth",
       {"DUCKMESH_INSECURE_NO_AUTH"},
       "serve without authentication: every request without credentials acts as superadmin "
       "(local trials only; logged and reported by /monitoring/health)",
       [](Config& c, const std::string& v) {
         c.insecure_no_auth = parse_bool("insecure_no_auth", v);
       }},
      {"jwt_hs256_secret",
       {"DUCKMESH_JWT_HS256_SECRET"},
       "shared secret that verifies HS256 JWTs (never logged; at least 32 bytes)",
       [](Config& c, const std::string& v) {
         if (!v.empty() && v.size() < 32)
           throw bad_value("jwt_hs256_secret", "***", "at least 32 bytes");
         c.jwt_hs256_secret = v;
       }},
      {"jwt_public_key_file",
       {"DUCKMESH_JWT_PUBLIC_KEY_FILE"},
       "PEM file of the RSA public key (BEGIN PUBLIC KEY) that verifies RS256 JWTs",
       [](Config& c, const std::string& v) { c.jwt_public_key_file = v; }},
      {"jwt_jwks_file",
       {"DUCKMESH_JWT_JWKS_FILE"},
       "JWKS file ({\"keys\": [...]}, RSA or oct keys with a kid) for JWTs that name a kid",
       [](Config& c, const std::string& v) { c.jwt_jwks_file = v; }},
      {"jwt_audience",
       {"DUCKMESH_JWT_AUDIENCE"},
       "audience a JWT's aud must contain (empty: not checked)",
       [](Config& c, const std::string& v) { c.jwt_audience = v; }},
      {"jwt_issuer",
       {"DUCKMESH_JWT_ISSUER"},
       "issuer a JWT's iss must equal (empty: not checked)",
       [](Config& c, const std::string& v) { c.jwt_issuer = v; }},
      {"jwt_leeway_s",
       {"DUCKMESH_JWT_LEEWAY_S"},
       "seconds of clock skew allowed when checking a JWT's exp, nbf and iat",
       [](Config& c, const std::string& v) {
         c.jwt_leeway_s = parse_int<std::int64_t>("jwt_leeway_s", v, 0, 600);
       }},
  };
  return all;
}

bool is_switch(const std::string& key) {
  return key == "insecure_no_auth";
}

std::string flag_name(const std::string& key) {
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

boost::json::object quotas_json(const std::map<std::string, ProductQuota>& quotas) {
  boost::json::object out;
  for (const auto& [name, q] : quotas) {
    out[name] = {{"events_per_day", q.events_per_day}, {"stored_bytes", q.stored_bytes}};
  }
  return out;
}

}  // namespace

boost::json::object Config::to_json() const {
  return {
      {"listen", listen()},
      {"data_dir", data_dir},
      {"io_threads", io_threads},
      {"worker_threads", worker_threads},
      {"worker_queue_limit", worker_queue_limit},
      {"body_limit_bytes", body_limit_bytes},
      {"read_timeout_ms", read_timeout_ms},
      {"idle_timeout_ms", idle_timeout_ms},
      {"header_limit_bytes", header_limit_bytes},
      {"trusted_hosts", boost::json::value_from(trusted_hosts)},
      {"cors_origins", boost::json::value_from(cors_origins)},
      {"tls_cert_file", tls_cert_file},
      {"tls_key_file", tls_key_file},
      {"rate_limit_ip", rate_limit_ip},
      {"rate_limit_ip_burst", rate_limit_ip_burst},
      {"rate_limit_key", rate_limit_key},
      {"rate_limit_key_burst", rate_limit_key_burst},
      {"quota_events_per_day", quota_events_per_day},
      {"quota_stored_bytes", quota_stored_bytes},
      {"product_quotas", quotas_json(product_quotas)},
      {"quota_refresh_ms", quota_refresh_ms},
      {"shutdown_grace_ms", shutdown_grace_ms},
      {"log_level", log_level},
      {"duckdb_path", duckdb_path},
      {"duckdb_memory_limit", duckdb_memory_limit},
      {"duckdb_threads", duckdb_threads},
      {"commit_max_batch_events", commit_max_batch_events},
      {"commit_max_batch_age_ms", commit_max_batch_age_ms},
      {"ingest_max_backlog", ingest_max_backlog},
      {"ingest_max_memory", ingest_max_memory},
      {"health_disk_degraded_free_percent", health_disk_degraded_free_percent},
      {"health_disk_unhealthy_free_percent", health_disk_unhealthy_free_percent},
      {"maintenance_enabled", maintenance_enabled},
      {"maintenance_interval_ms", maintenance_interval_ms},
      {"compact_target_file_bytes", compact_target_file_bytes},
      {"compact_target_file_rows", compact_target_file_rows},
      {"compact_small_file_bytes", compact_small_file_bytes},
      {"compact_small_file_rows", compact_small_file_rows},
      {"retention_max_age_s", retention_max_age_s},
      {"idempotency_window_s", idempotency_window_s},
      {"retention_min_snapshots", retention_min_snapshots},
      {"gc_grace_s", gc_grace_s},
      {"onto_server_url", mask_url(onto_server_url)},
      {"onto_server_timeout", onto_server_timeout_s},
      {"use_mock_onto_server", use_mock_onto_server},
      {"catalog", catalog},
      {"catalog_url", duckmesh::pg::redact_connection_string(catalog_url)},
      {"catalog_pool_size", catalog_pool_size},
      {"catalog_statement_timeout_ms", catalog_statement_timeout_ms},
      {"bus", bus},
      {"bus_url", duckmesh::pg::redact_connection_string(bus_url)},
      {"bus_pool_size", bus_pool_size},
      {"roles", roles.to_string()},
      {"node_id", node_id},
      {"commit_lease_ms", commit_lease_ms},
      {"store", store},
      {"s3_endpoint", mask_url(s3_endpoint)},
      {"s3_bucket", s3_bucket},
      {"s3_prefix", s3_prefix},
      {"s3_region", s3_region},
      {"s3_access_key", s3_access_key},
      {"s3_secret_key", s3_secret_key.empty() ? "" : "***"},
      {"s3_path_style", s3_path_style},
      {"s3_cache_bytes", s3_cache_bytes},
      {"s3_multipart_threshold_bytes", s3_multipart_threshold_bytes},
      {"s3_part_size_bytes", s3_part_size_bytes},
      {"ontology_dir", ontology_dir},
      {"onto_cache_ttl", onto_cache_ttl_s},
      {"onto_refresh_interval", onto_refresh_interval_s},
      {"onto_breaker_failures", onto_breaker_failures},
      {"onto_breaker_cooldown", onto_breaker_cooldown_s},
      {"default_product", default_product},
      {"insecure_no_auth", insecure_no_auth},
      {"jwt_hs256_secret", jwt_hs256_secret.empty() ? "" : "***"},
      {"jwt_public_key_file", jwt_public_key_file},
      {"jwt_jwks_file", jwt_jwks_file},
      {"jwt_audience", jwt_audience},
      {"jwt_issuer", jwt_issuer},
      {"jwt_leeway_s", jwt_leeway_s},
  };
}

namespace {

const Setting& find_setting(const std::string& key, const std::string& source) {
  for (const auto& s : settings()) {
    if (s.key == key) return s;
  }
  std::string known;
  for (const auto& s : settings()) known += (known.empty() ? "" : ", ") + s.key;
  throw Error(ErrorCode::invalid_input,
              "unknown setting '" + key + "' in " + source + "; known: " + known,
              {{"setting", key}, {"source", source}});
}

void apply(Config& config, const Setting& setting, const std::string& value,
           const std::string& source) {
  try {
    setting.apply(config, value);
  } catch (const Error& e) {
    boost::json::object details = e.details();
    details["source"] = source;
    throw Error(e.code(), std::string(e.message()) + " (from " + source + ")", std::move(details));
  }
}

std::string file_value(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_int64() || v.is_uint64() || v.is_double()) return to_json_text(v);
  return "<" + std::string(v.is_null() ? "null" : "structured value") + ">";
}

}  // namespace

std::string Roles::to_string() const {
  std::string out;
  auto add = [&out](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ",";
    out += name;
  };
  add(api, "api");
  add(coordinator, "coordinator");
  add(compactor, "compactor");
  add(gc, "gc");
  return out;
}

namespace {

// Rules between settings, checked once all sources are applied.
void check_combinations(const Config& config) {
  if (config.health_disk_unhealthy_free_percent > config.health_disk_degraded_free_percent) {
    throw Error(ErrorCode::invalid_input,
                "setting 'health_disk_unhealthy_free_percent' is " +
                    std::to_string(config.health_disk_unhealthy_free_percent) +
                    " but must be at most health_disk_degraded_free_percent (" +
                    std::to_string(config.health_disk_degraded_free_percent) +
                    "): a disk is degraded before it is unhealthy",
                {{"setting", "health_disk_unhealthy_free_percent"},
                 {"value", std::to_string(config.health_disk_unhealthy_free_percent)}});
  }
  if (!config.roles.all() && config.bus != "postgres") {
    throw Error(ErrorCode::invalid_input,
                "setting 'roles' is '" + config.roles.to_string() +
                    "' but a node with only some roles shares its ingest bus with other nodes: "
                    "set bus to postgres (the local bus serves one process)",
                {{"setting", "roles"}, {"value", config.roles.to_string()}});
  }
  if (config.bus == "postgres" && config.bus_url.empty() && config.catalog_url.empty()) {
    throw Error(ErrorCode::invalid_input,
                "setting 'bus_url' is required when bus is postgres and no catalog_url is set (a "
                "libpq connection string or postgresql://user:password@host:port/db)",
                {{"setting", "bus_url"}});
  }
}

}  // namespace

Config load_config(const std::map<std::string, std::string>& flags, const EnvLookup& env,
                   std::string config_file) {
  Config config;
  if (config_file.empty()) config_file = env("DUCKMESH_CONFIG").value_or("");
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) {
      throw Error(ErrorCode::invalid_input, "cannot read config file '" + config_file + "'",
                  {{"file", config_file}});
    }
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto doc = boost::json::parse(text.str(), ec);
    if (ec || !doc.is_object()) {
      throw Error(ErrorCode::invalid_input,
                  "config file '" + config_file + "' must be a JSON object of setting: value" +
                      (ec ? " (" + ec.message() + ")" : ""),
                  {{"file", config_file}});
    }
    std::string source = "config file " + config_file;
    for (const auto& [key, value] : doc.as_object()) {
      const Setting& setting = find_setting(std::string(key), source);
      apply(config, setting, file_value(value), source);
    }
  }
  for (const auto& setting : settings()) {
    // The first variable listed wins when several are set.
    for (const auto& name : setting.env) {
      if (auto value = env(name)) {
        apply(config, setting, *value, "environment variable " + name);
        break;
      }
    }
  }
  for (const auto& [key, value] : flags) {
    const Setting& setting = find_setting(key, "command line");
    apply(config, setting, value, "flag " + flag_name(key));
  }
  check_combinations(config);
  return config;
}

}  // namespace duckmesh::app
