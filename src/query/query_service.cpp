#include "query/query_service.hpp"

#include <boost/json.hpp>
#include <ctime>

#include "common/error.hpp"
#include "ingest/token.hpp"
#include "obs/metrics.hpp"
#include "query/snapshot_binder.hpp"
#include "schema/table_schema.hpp"
#include "schema/value_text.hpp"

namespace duckmesh::query {
namespace {

struct Metrics {
  obs::Family<obs::Counter>& queries;
  obs::Histogram& seconds;
  static Metrics& get() {
    auto& r = obs::Registry::global();
    static Metrics m{r.counter("duckmesh_query_total", "Queries answered, by outcome", {"outcome"}),
                     r.histogram("duckmesh_query_duration_seconds",
                                 "Time from snapshot resolution to the last byte encoded")
                         .get()};
    return m;
  }
};

Error field_error(const std::string& field, const std::string& what) {
  return Error(ErrorCode::invalid_input, "field '" + field + "' " + what, {{"field", field}});
}

std::int64_t int_field(const boost::json::object& o, const char* name, std::int64_t fallback,
                       std::int64_t min, std::int64_t max) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (!it->value().is_int64() && !it->value().is_uint64()) {
    throw field_error(
        name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  auto v = it->value().to_number<std::int64_t>();
  if (v < min || v > max) {
    throw field_error(
        name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

std::optional<std::string> string_field(const boost::json::object& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) throw field_error(name, "must be a string");
  return std::string(it->value().as_string());
}

bool bool_field(const boost::json::object& o, const char* name, bool fallback) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (!it->value().is_bool()) throw field_error(name, "must be true or false");
  return it->value().as_bool();
}

// RFC 3339 -> microseconds since the epoch (UTC).
std::int64_t parse_time(const std::string& text) {
  std::string canonical;
  const char* why = nullptr;
  if (!schema::append_utc_timestamp(text, false, canonical, why)) {
    // `why` says what is wrong, as ingest's timestamp checks do; for text
    // that is no timestamp at all it gives examples.
    throw field_error("as_of", std::string("is not an RFC 3339 time: ") + (why ? why : "invalid") +
                                   "; got \"" + text + "\"");
  }
  std::tm tm{};
  int micros = 0;
  std::sscanf(canonical.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
              &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
  if (auto dot = canonical.find('.'); dot != std::string::npos) {
    std::string frac = canonical.substr(dot + 1, 6);
    while (frac.size() < 6) frac += '0';
    micros = std::stoi(frac);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000 + micros;
}

}  // namespace

QueryRequest QueryRequest::from_json(const boost::json::value& body) {
  if (!body.is_object())
    throw Error(ErrorCode::invalid_input, "the query request must be a JSON object");
  const auto& o = body.as_object();
  static const char* known[] = {"sql",
                                "params",
                                "snapshot_id",
                                "as_of",
                                "min_visibility_token",
                                "wait_timeout_ms",
                                "max_rows",
                                "error_on_truncate",
                                "timeout_ms",
                                "format",
                                "include_system_columns"};
  for (const auto& [key, value] : o) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) {
      throw field_error(std::string(key),
                        "is not a query option; allowed: sql, params, snapshot_id, as_of, "
                        "min_visibility_token, wait_timeout_ms, max_rows, error_on_truncate, "
                        "timeout_ms, format, include_system_columns");
    }
  }
  QueryRequest r;
  auto sql = string_field(o, "sql");
  if (!sql || sql->empty()) throw field_error("sql", "is required (one read-only SQL statement)");
  r.sql = *sql;
  if (auto it = o.find("params"); it != o.end()) {
    if (!it->value().is_null() && !it->value().is_array() && !it->value().is_object()) {
      throw field_error("params",
                        "must be an array (positional $1, $2...) or an object (named $name)");
    }
    r.params = it->value();
  }
  if (o.contains("snapshot_id")) r.snapshot_id = int_field(o, "snapshot_id", 0, 1, INT64_MAX);
  r.as_of = string_field(o, "as_of");
  r.min_visibility_token = string_field(o, "min_visibility_token");
  int selectors = (r.snapshot_id ? 1 : 0) + (r.as_of ? 1 : 0) + (r.min_visibility_token ? 1 : 0);
  if (selectors > 1) {
    throw Error(ErrorCode::invalid_input,
                "give at most one of snapshot_id, as_of and min_visibility_token",
                {{"field", "snapshot_id"}});
  }
  r.wait_timeout = std::chrono::milliseconds(int_field(o, "wait_timeout_ms", 5000, 0, 300'000));
  r.max_rows = static_cast<std::size_t>(int_field(o, "max_rows", 10'000, 0, 1'000'000));
  r.error_on_truncate = bool_field(o, "error_on_truncate", false);
  r.timeout = std::chrono::milliseconds(int_field(o, "timeout_ms", 30'000, 1, 300'000));
  if (auto f = string_field(o, "format")) {
    try {
      r.format = format_from_string(*f);
    } catch (const Error& e) {
      throw field_error("format", std::string(e.message()));
    }
  }
  r.include_system_columns = bool_field(o, "include_system_columns", false);
  return r;
}

QueryService::QueryService(const catalog::CatalogRepo& catalog, const storage::ObjectStore& store,
                           VisibilityWaiter waiter, QueryServiceOptions options)
    : catalog_(catalog), store_(store), waiter_(std::move(waiter)), options_(std::move(options)) {
  std::filesystem::create_directories(options_.scratch_dir);
}

QueryService::~QueryService() = default;

SandboxPool& QueryService::pool_for(const std::string& product) {
  std::lock_guard lock(mutex_);
  auto& pool = pools_[product];
  if (!pool) {
    // The product's files live under products/<product>/ in the store; a
    // sandbox may read nothing else.
    auto root = std::filesystem::absolute(store_.local_directory("products/" + product));
    pool = std::make_unique<SandboxPool>(std::vector<std::filesystem::path>{root},
                                         std::filesystem::absolute(options_.scratch_dir),
                                         options_.limits, options_.sandboxes_per_product);
  }
  return *pool;
}

std::map<std::string, QueryService::SandboxFigures> QueryService::sandbox_figures() {
  std::lock_guard lock(mutex_);
  std::map<std::string, SandboxFigures> out;
  for (const auto& [product, pool] : pools_) {
    std::size_t idle = pool->idle_count();
    std::size_t open = pool->open_count();
    out[product] = {
        .busy = open - std::min(open, idle), .idle = idle, .waiting = pool->waiting_count()};
  }
  return out;
}

catalog::Snapshot QueryService::resolve(const std::string& product, const QueryRequest& request) {
  if (!catalog_.find_product(product)) {
    throw Error(ErrorCode::not_found, "product '" + product + "' does not exist",
                {{"product", product}});
  }
  auto latest = catalog_.latest_snapshot(product);
  if (!latest) {
    throw Error(ErrorCode::not_found,
                "product '" + product + "' has no snapshot yet; create a table first",
                {{"product", product}});
  }
  if (request.snapshot_id) {
    auto s = catalog_.find_snapshot(product, *request.snapshot_id);
    auto oldest = s ? std::nullopt : catalog_.oldest_snapshot(product);
    if (!s && oldest && *request.snapshot_id < oldest->id) {
      throw Error(ErrorCode::not_found,
                  "snapshot " + std::to_string(*request.snapshot_id) +
                      " has expired; the oldest available is " + std::to_string(oldest->id),
                  {{"snapshot_id", *request.snapshot_id},
                   {"oldest_snapshot_id", oldest->id},
                   {"latest_snapshot_id", latest->id}});
    }
    if (!s) {
      throw Error(ErrorCode::not_found,
                  "snapshot " + std::to_string(*request.snapshot_id) +
                      " does not exist; the latest is " + std::to_string(latest->id),
                  {{"snapshot_id", *request.snapshot_id}, {"latest_snapshot_id", latest->id}});
    }
    return *s;
  }
  if (request.as_of) {
    auto s = catalog_.snapshot_as_of(product, parse_time(*request.as_of));
    if (!s) {
      auto oldest = catalog_.oldest_snapshot(product);
      throw Error(
          ErrorCode::not_found,
          "no snapshot was committed at or before " + *request.as_of +
              (oldest ? "; the oldest available is " + std::to_string(oldest->id) : std::string()),
          {{"as_of", *request.as_of}, {"oldest_snapshot_id", oldest ? oldest->id : 0}});
    }
    return *s;
  }
  if (request.min_visibility_token) {
    auto token = ingest::VisibilityToken::decode(*request.min_visibility_token);
    if (token.product != product) {
      throw Error(ErrorCode::invalid_input, "the visibility token belongs to another product",
                  {{"field", "min_visibility_token"}});
    }
    if (catalog_.watermark() < token.position && !waiter_(token.position, request.wait_timeout)) {
      throw Error(ErrorCode::timeout,
                  "the write behind min_visibility_token is not visible after " +
                      std::to_string(request.wait_timeout.count()) +
                      " ms; retry or raise wait_timeout_ms",
                  {{"field", "min_visibility_token"}, {"position", token.position}});
    }
    return *catalog_.latest_snapshot(product);
  }
  return *latest;
}

QueryResult QueryService::changes(const std::string& product, const std::string& table,
                                  std::int64_t from, std::int64_t to, Format format,
                                  std::size_t max_rows, ResultSink& sink) {
  if (!catalog_.find_product(product)) {
    throw Error(ErrorCode::not_found, "product '" + product + "' does not exist",
                {{"product", product}});
  }
  if (from < 0 || to < 1 || from >= to) {
    throw Error(ErrorCode::invalid_input,
                "'from' must be a snapshot id below 'to' (from=0: since the start)",
                {{"field", "from"}});
  }
  // The snapshot just before the oldest kept one may have expired: changes
  // after it are still complete.
  const auto oldest_kept = catalog_.oldest_snapshot(product);
  // Files a compaction retired still hold the rows their ingest added, as
  // long as expiry has not passed `from`: every file added after `from` is
  // then retired, if at all, after the oldest kept snapshot and still exists.
  if (const auto& oldest = oldest_kept; oldest && from < oldest->id - 1) {
    throw Error(ErrorCode::not_found,
                "changes after snapshot " + std::to_string(from) +
                    " are no longer complete: older snapshots have expired; the oldest available "
                    "is " +
                    std::to_string(oldest->id) + " (use from >= " + std::to_string(oldest->id - 1) +
                    ")",
                {{"from", from}, {"oldest_snapshot_id", oldest->id}});
  }
  for (auto id : {from, to}) {
    if (id == from && oldest_kept && id == oldest_kept->id - 1) continue;
    if (id > 0 && !catalog_.find_snapshot(product, id)) {
      throw Error(ErrorCode::not_found, "snapshot " + std::to_string(id) + " does not exist",
                  {{"snapshot_id", id}});
    }
  }
  std::optional<catalog::TableInfo> info;
  for (auto& t : catalog_.tables_at(product, to)) {
    if (t.name == table) info = t;
  }
  if (!info) {
    throw Error(ErrorCode::not_found,
                "table '" + table + "' does not exist at snapshot " + std::to_string(to),
                {{"table", table}});
  }
  std::map<std::int64_t, bool> is_ingest;
  std::vector<catalog::DataFile> added;
  for (auto& f : catalog_.files_added(product, table, from, to)) {
    // A name reused after a drop: only files of the table live at `to`.
    if (f.added_snapshot < info->created_snapshot) continue;
    auto it = is_ingest.find(f.added_snapshot);
    if (it == is_ingest.end()) {
      auto s = catalog_.find_snapshot(product, f.added_snapshot);
      it = is_ingest.emplace(f.added_snapshot, s && s->operation == catalog::Operation::ingest)
               .first;
    }
    if (it->second) added.push_back(std::move(f));
  }
  BindOptions bind;
  bind.include_system_columns = true;
  bind.all_versions = true;
  auto view = table_view_sql(*info, added, store_, bind);
  auto lease = pool_for(product).acquire(options_.queue_wait);
  lease->connection().execute("CREATE OR REPLACE TEMP VIEW " + schema::quote_identifier(table) +
                              " AS " + view);
  QueryOptions q;
  q.max_rows = std::min(max_rows, options_.max_rows_limit);
  q.format = format;
  q.add_fields = [&](boost::json::object& envelope) {
    envelope["from_snapshot_id"] = from;
    envelope["to_snapshot_id"] = to;
  };
  QueryResult result;
  result.snapshot_id = to;
  result.files_scanned = added.size();
  result.outcome = run_query(*lease,
                             "SELECT * FROM " + schema::quote_identifier(table) + " ORDER BY " +
                                 schema::quote_identifier(schema::kPositionColumn),
                             q, sink);
  return result;
}

QueryResult QueryService::run(const std::string& product, const QueryRequest& request,
                              ResultSink& sink) {
  auto started = std::chrono::steady_clock::now();
  auto& metrics = Metrics::get();
  try {
    auto snapshot = resolve(product, request);
    auto lease = pool_for(product).acquire(options_.queue_wait);
    auto predicates = extract_predicates(lease->connection(), request.sql);
    BindOptions bind;
    bind.include_system_columns = request.include_system_columns;
    bind.predicates = &predicates;
    std::size_t scanned = 0, pruned = 0;
    for (const auto& t :
         bind_snapshot(lease->connection(), catalog_, store_, product, snapshot.id, bind)) {
      scanned += t.files;
      pruned += t.files_pruned;
    }

    QueryOptions q;
    q.params = request.params;
    q.max_rows = std::min(request.max_rows, options_.max_rows_limit);
    q.error_on_truncate = request.error_on_truncate;
    q.timeout = std::min(request.timeout, options_.max_timeout);
    q.format = request.format;
    q.add_fields = [&](boost::json::object& envelope) {
      envelope["snapshot_id"] = snapshot.id;
      envelope["files_scanned"] = scanned;
      envelope["files_pruned"] = pruned;
    };
    QueryResult result;
    result.snapshot_id = snapshot.id;
    result.files_scanned = scanned;
    result.files_pruned = pruned;
    result.outcome = run_query(*lease, request.sql, q, sink);
    metrics.queries.with({"ok"}).inc();
    metrics.seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return result;
  } catch (const Error& e) {
    metrics.queries.with({std::string(to_string(e.code()))}).inc();
    throw;
  }
}

}  // namespace duckmesh::query
