#include "bus/postgres/postgres_bus.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <pqxx/binarystring>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/transaction>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/hex.hpp"
#include "pg/array_literal.hpp"
#include "pg/connection_pool.hpp"
#include "pg/session.hpp"

namespace duckmesh::bus {

namespace {

using Tx = pqxx::transaction_base;

// A layout an older binary cannot use bumps it; objects added beside what
// it uses (an index) do not, so older nodes keep working beside newer ones.
constexpr int kSchemaVersion = 1;

// Run under an advisory lock by an open that finds one of these objects
// missing (a new bus, or one from before an object was added; every
// statement a no-op for what exists), never by one that finds them all: a
// CREATE INDEX, even IF NOT EXISTS, locks bus_events against every publish
// in progress, and a node starting while others published deadlocked with
// a publisher holding the head row.
constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS bus_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bus_head ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  last_position BIGINT NOT NULL CHECK (last_position >= 0),"
    "  partition_positions BIGINT NOT NULL CHECK (partition_positions > 0))",
    "CREATE TABLE IF NOT EXISTS bus_events ("
    "  position BIGINT NOT NULL,"
    "  product TEXT NOT NULL,"
    "  table_name TEXT NOT NULL,"
    "  idem_key BYTEA NOT NULL,"
    "  payload BYTEA NOT NULL,"
    "  ingested_unix_us BIGINT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  consumer TEXT,"
    "  lease_until TIMESTAMPTZ,"
    "  PRIMARY KEY (position)"
    ") PARTITION BY RANGE (position)",
    // Expired leases, and a consumer's records of a table (for its table lease).
    "CREATE INDEX IF NOT EXISTS bus_events_leased ON bus_events (lease_until) "
    "WHERE consumer IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS bus_events_by_holder ON bus_events (consumer, product, table_name) "
    "WHERE consumer IS NOT NULL",
    // Unsettled records by idempotency key (a retry sent to another node).
    "CREATE INDEX IF NOT EXISTS bus_events_by_key ON bus_events (product, table_name, idem_key) "
    "WHERE idem_key <> ''::bytea",
    "CREATE TABLE IF NOT EXISTS bus_dead_letters ("
    "  position BIGINT PRIMARY KEY,"
    "  product TEXT NOT NULL,"
    "  table_name TEXT NOT NULL,"
    "  idem_key BYTEA NOT NULL,"
    "  payload BYTEA NOT NULL,"
    "  ingested_unix_us BIGINT NOT NULL,"
    "  attempts INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  dead_unix_us BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bus_dead_letters_by_age ON bus_dead_letters "
    "(dead_unix_us, position)",
    "CREATE TABLE IF NOT EXISTS bus_table_leases ("
    "  product TEXT NOT NULL,"
    "  table_name TEXT NOT NULL,"
    "  consumer TEXT NOT NULL,"
    "  lease_until TIMESTAMPTZ NOT NULL,"
    "  PRIMARY KEY (product, table_name))",
    // Consumers that claimed lately (until their last claim's lease ends), so
    // a claim can leave a share of the tables to the others.
    "CREATE TABLE IF NOT EXISTS bus_consumers ("
    "  consumer TEXT PRIMARY KEY,"
    "  seen_until TIMESTAMPTZ NOT NULL)",
};

// What kSchema creates: the name after each statement's "IF NOT EXISTS".
std::vector<std::string> schema_objects() {
  constexpr std::string_view kMarker = "IF NOT EXISTS ";
  std::vector<std::string> names;
  for (const std::string_view statement : kSchema) {
    const auto marker = statement.find(kMarker);
    if (marker == std::string_view::npos) {
      throw Error(
          ErrorCode::internal,
          "PostgreSQL bus: a schema statement creates no named object: " + std::string(statement));
    }
    const auto name = marker + kMarker.size();
    names.emplace_back(statement.substr(name, statement.find(' ', name) - name));
  }
  return names;
}

// Rows per multi-row INSERT (6 parameters each, well below libpq's 65535).
constexpr std::size_t kInsertChunk = 1000;

// A lock wait that would stall claims and publishes longer than this makes a
// partition drop give up; a later settlement or requeue_expired() retries.
constexpr const char* kDropLockTimeout = "SET LOCAL lock_timeout = '500ms'";

constexpr const char* kReturnedColumns =
    "position, product, table_name, idem_key, payload, ingested_unix_us, attempts";

constexpr const char* kReleaseTableLeases =
    "DELETE FROM bus_table_leases l WHERE l.consumer = $1 AND NOT EXISTS ("
    "SELECT 1 FROM bus_events e WHERE e.consumer = $1 AND e.product = l.product "
    "AND e.table_name = l.table_name)";

std::int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

pg::PoolOptions pool_options(const PostgresBusOptions& options) {
  pg::PoolOptions pool;
  pool.url = options.url;
  pool.size = options.pool_size;
  pool.statement_timeout_ms = options.statement_timeout_ms;
  pool.checkout_timeout_ms = options.checkout_timeout_ms;
  pool.health_check_idle_ms = options.health_check_idle_ms;
  pool.subject = "PostgreSQL bus";
  pool.setting_prefix = "bus";
  return pool;
}

// Dead-letter reasons are stored as text: bytes that are not UTF-8 (or NUL)
// become '?', so no reason can make a dead letter fail.
std::string as_text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    bool ok = len > 0 && c != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

std::string partition_name(std::uint64_t k) {
  return "bus_events_" + std::to_string(k);
}

Record read_record(const pqxx::row& row) {
  Record r;
  r.position = row[0].as<Position>();
  r.product = row[1].c_str();
  r.table = row[2].c_str();
  r.idempotency_key = pqxx::binarystring(row[3]).str();
  r.payload = pqxx::binarystring(row[4]).str();
  r.ingested_unix_us = row[5].as<std::int64_t>();
  r.attempts = row[6].as<std::uint32_t>();
  return r;
}

void require_consumer(const std::string& consumer, const char* call) {
  if (consumer.empty()) {
    throw Error(ErrorCode::invalid_input, std::string(call) + ": consumer is empty");
  }
}

// Product and table names are stored as text, which holds neither NUL nor
// arbitrary bytes; catalog names are far narrower anyway.
void require_storable_name(const std::string& name, const char* field) {
  const bool ok = !name.empty() && std::all_of(name.begin(), name.end(),
                                               [](char c) { return c >= 0x20 && c < 0x7f; });
  if (!ok) {
    throw Error(
        ErrorCode::invalid_input,
        std::string("PostgreSQL bus: a record's ") + field + " must be non-empty printable ASCII",
        {{"field", field}});
  }
}

}  // namespace

// ------------------------------------------------------------------- open

PostgresBus::PostgresBus(PostgresBusOptions options) : options_(std::move(options)) {
  if (options_.max_attempts == 0) {
    throw Error(ErrorCode::invalid_input, "PostgreSQL bus: max_attempts must be at least 1",
                {{"field", "max_attempts"}});
  }
  if (options_.partition_positions == 0 ||
      options_.partition_positions > static_cast<std::uint64_t>(1) << 40) {
    throw Error(ErrorCode::invalid_input,
                "PostgreSQL bus: partition_positions must be between 1 and 2^40",
                {{"field", "partition_positions"}});
  }
  pool_ = std::make_unique<pg::ConnectionPool>(pool_options(options_));
  partition_width_ = pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('duckmesh ingest bus schema'))");
    const bool complete = tx.exec_params(
                                "SELECT bool_and(to_regclass(name) IS NOT NULL) FROM "
                                "unnest($1::text[]) AS name",
                                pg::text_array(schema_objects()))[0][0]
                              .as<bool>();
    if (!complete) {
      for (const char* statement : kSchema) tx.exec(statement);
    }
    const auto version = tx.exec("SELECT max(version) FROM bus_schema");
    if (version[0][0].is_null()) {
      tx.exec_params("INSERT INTO bus_schema (version) VALUES ($1)", kSchemaVersion);
    } else if (version[0][0].as<int>() > kSchemaVersion) {
      throw Error(ErrorCode::internal, "PostgreSQL bus: the database holds bus schema version " +
                                           std::string(version[0][0].c_str()) +
                                           ", newer than this binary knows (" +
                                           std::to_string(kSchemaVersion) + "); upgrade it");
    }
    // Read before any insert: inserting the head row, even ON CONFLICT DO
    // NOTHING, would wait for a publish that holds it.
    auto head = tx.exec("SELECT partition_positions FROM bus_head WHERE id = 1");
    if (head.empty()) {
      tx.exec_params(
          "INSERT INTO bus_head (id, last_position, partition_positions) VALUES (1, 0, $1) "
          "ON CONFLICT (id) DO NOTHING",
          static_cast<std::int64_t>(options_.partition_positions));
      head = tx.exec("SELECT partition_positions FROM bus_head WHERE id = 1");
    }
    return head[0][0].as<std::uint64_t>();
  });
}

PostgresBus::~PostgresBus() = default;

std::size_t PostgresBus::connections_opened() const {
  return pool_->connections_opened();
}

// ---------------------------------------------------------------- publish

std::vector<Position> PostgresBus::publish(std::vector<Record> records) {
  if (records.empty()) return {};
  const std::int64_t now_us = system_now_us();
  for (Record& r : records) {
    require_storable_name(r.product, "product");
    require_storable_name(r.table, "table");
    if (r.ingested_unix_us == 0) r.ingested_unix_us = now_us;
  }
  PublishRequest request;
  request.records = &records;
  std::unique_lock lock(publish_mu_);
  queue_.push_back(&request);
  while (!request.done) {
    if (leader_running_) {
      published_.wait(lock);
      continue;
    }
    leader_running_ = true;
    std::vector<PublishRequest*> group(queue_.begin(), queue_.end());
    queue_.clear();
    lock.unlock();
    std::exception_ptr error;
    try {
      write_group(group);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (PublishRequest* r : group) {
      r->error = error;
      r->done = true;
    }
    if (!error) ++group_commits_;
    leader_running_ = false;
    published_.notify_all();
  }
  if (request.error) std::rethrow_exception(request.error);
  std::vector<Position> positions;
  positions.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) positions.push_back(request.first_position + i);
  return positions;
}

void PostgresBus::ensure_partitions(pqxx::transaction_base& tx, Position first, Position last,
                                    std::vector<std::uint64_t>& created) {
  for (std::uint64_t k = (first - 1) / partition_width_; k <= (last - 1) / partition_width_; ++k) {
    {
      std::lock_guard known(partitions_mu_);
      if (known_partitions_.count(k) > 0) continue;
    }
    // The caller holds the head row, so no other node creates it meanwhile.
    const std::string name = partition_name(k);
    if (tx.exec_params("SELECT to_regclass($1) IS NULL", name)[0][0].as<bool>()) {
      tx.exec("CREATE TABLE " + name + " PARTITION OF bus_events FOR VALUES FROM (" +
              std::to_string(k * partition_width_ + 1) + ") TO (" +
              std::to_string((k + 1) * partition_width_ + 1) + ")");
    }
    created.push_back(k);
  }
}

void PostgresBus::write_group(const std::vector<PublishRequest*>& group) {
  std::size_t total = 0;
  for (const PublishRequest* r : group) total += r->records->size();
  std::vector<std::uint64_t> created;
  const Position first = pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    created.clear();
    // The head row stays locked until commit: publishers of every node take
    // their positions one group after another, so they are gap-free and
    // visible in order.
    const auto head = tx.exec_params(
        "UPDATE bus_head SET last_position = last_position + $1 WHERE id = 1 "
        "RETURNING last_position",
        static_cast<std::int64_t>(total));
    const Position last = head[0][0].as<Position>();
    const Position first_position = last - total + 1;
    ensure_partitions(tx, first_position, last, created);
    Position position = first_position;
    std::vector<std::string> params;
    std::string sql;
    auto flush = [&] {
      if (params.empty()) return;
      tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
      params.clear();
    };
    for (const PublishRequest* request : group) {
      for (const Record& r : *request->records) {
        if (params.empty()) {
          sql =
              "INSERT INTO bus_events (position, product, table_name, idem_key, payload, "
              "ingested_unix_us) VALUES ";
        } else {
          sql += ", ";
        }
        const std::size_t n = params.size();
        sql += "($" + std::to_string(n + 1) + "::bigint, $" + std::to_string(n + 2) + ", $" +
               std::to_string(n + 3) + ", decode($" + std::to_string(n + 4) + ", 'hex'), decode($" +
               std::to_string(n + 5) + ", 'hex'), $" + std::to_string(n + 6) + "::bigint)";
        params.push_back(std::to_string(position++));
        params.push_back(r.product);
        params.push_back(r.table);
        params.push_back(to_hex(r.idempotency_key));
        params.push_back(to_hex(r.payload));
        params.push_back(std::to_string(r.ingested_unix_us));
        if (params.size() >= kInsertChunk * 6) flush();
      }
    }
    flush();
    return first_position;
  });
  {
    std::lock_guard known(partitions_mu_);
    known_partitions_.insert(created.begin(), created.end());
  }
  Position next = first;
  for (PublishRequest* r : group) {
    r->first_position = next;
    next += r->records->size();
  }
}

std::uint64_t PostgresBus::group_commits() const {
  std::lock_guard lock(publish_mu_);
  return group_commits_;
}

// ----------------------------------------------------------------- claims

std::vector<Record> PostgresBus::claim_batch(const std::string& consumer, std::size_t limit,
                                             std::chrono::milliseconds lease) {
  require_consumer(consumer, "claim_batch");
  if (lease.count() < 0) throw Error(ErrorCode::invalid_input, "claim_batch: negative lease");
  if (limit == 0) return {};
  const std::int64_t lease_ms = lease.count();
  auto out = pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    tx.exec_params(
        "INSERT INTO bus_consumers AS c (consumer, seen_until) "
        "VALUES ($1, clock_timestamp() + $2::bigint * interval '1 millisecond') "
        "ON CONFLICT (consumer) DO UPDATE SET seen_until = EXCLUDED.seen_until",
        consumer, lease_ms);
    const auto activity = tx.exec_params(
        "SELECT (SELECT count(*) FROM bus_consumers "
        "        WHERE consumer <> $1 AND seen_until > clock_timestamp()), "
        "       (SELECT count(*) FROM bus_table_leases "
        "        WHERE consumer <> $1 AND lease_until > clock_timestamp())",
        consumer)[0];
    const auto others = activity[0].as<std::size_t>();
    const auto held_by_others = activity[1].as<std::size_t>();
    const auto candidates = tx.exec_params(
        "SELECT e.position, e.product, e.table_name FROM bus_events e "
        "WHERE (e.consumer IS NULL OR e.lease_until <= clock_timestamp()) "
        "AND NOT EXISTS (SELECT 1 FROM bus_table_leases l WHERE l.product = e.product "
        "AND l.table_name = e.table_name AND l.consumer <> $1 "
        "AND l.lease_until > clock_timestamp()) "
        "ORDER BY e.position LIMIT $2 FOR UPDATE OF e SKIP LOCKED",
        consumer, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<Record> records;
    if (candidates.empty()) return records;
    using Table = std::pair<std::string, std::string>;
    std::map<Table, std::vector<Position>> by_table;
    std::vector<Table> oldest_first;  // tables by their lowest waiting position
    for (const auto& row : candidates) {
      auto& positions = by_table[{row[1].c_str(), row[2].c_str()}];
      if (positions.empty()) oldest_first.emplace_back(row[1].c_str(), row[2].c_str());
      positions.push_back(row[0].as<Position>());
    }
    // A fair share when other consumers claim too: of the n tables with
    // work (deliverable here, or held by another consumer) and k active
    // consumers, ceil(n / k), the longest-waiting first.
    const std::size_t share = (oldest_first.size() + held_by_others + others) / (others + 1);
    for (std::size_t i = share; i < oldest_first.size(); ++i) by_table.erase(oldest_first[i]);
    // In name order, so claimers that want the same tables lock their lease
    // rows in one order and cannot deadlock.
    std::vector<Position> granted;
    for (const auto& [table, positions] : by_table) {
      const auto lease_row = tx.exec_params(
          "INSERT INTO bus_table_leases AS l (product, table_name, consumer, lease_until) "
          "VALUES ($1, $2, $3, clock_timestamp() + $4::bigint * interval '1 millisecond') "
          "ON CONFLICT (product, table_name) DO UPDATE SET consumer = EXCLUDED.consumer, "
          "lease_until = CASE WHEN l.consumer = EXCLUDED.consumer "
          "THEN GREATEST(l.lease_until, EXCLUDED.lease_until) ELSE EXCLUDED.lease_until END "
          "WHERE l.consumer = EXCLUDED.consumer OR l.lease_until <= clock_timestamp() "
          "RETURNING 1",
          table.first, table.second, consumer, lease_ms);
      if (lease_row.empty()) continue;  // another consumer took the table meanwhile
      granted.insert(granted.end(), positions.begin(), positions.end());
    }
    if (granted.empty()) return records;
    const auto rows = tx.exec_params(
        std::string("UPDATE bus_events SET consumer = $1, "
                    "lease_until = clock_timestamp() + $2::bigint * interval '1 millisecond', "
                    "attempts = attempts + 1 WHERE position = ANY($3::bigint[]) RETURNING ") +
            kReturnedColumns,
        consumer, lease_ms, pg::bigint_array(granted));
    records.reserve(rows.size());
    for (const auto& row : rows) records.push_back(read_record(row));
    return records;
  });
  std::sort(out.begin(), out.end(),
            [](const Record& a, const Record& b) { return a.position < b.position; });
  return out;
}

void PostgresBus::extend_lease(const std::string& consumer, const std::vector<Position>& positions,
                               std::chrono::milliseconds lease) {
  if (lease.count() < 0) throw Error(ErrorCode::invalid_input, "extend_lease: negative lease");
  if (positions.empty()) return;
  pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    const auto tables = tx.exec_params(
        "UPDATE bus_events SET lease_until = clock_timestamp() + $3::bigint * "
        "interval '1 millisecond' WHERE position = ANY($2::bigint[]) AND consumer = $1 "
        "RETURNING product, table_name",
        consumer, pg::bigint_array(positions), static_cast<std::int64_t>(lease.count()));
    std::set<std::pair<std::string, std::string>> held;
    for (const auto& row : tables) held.emplace(row[0].c_str(), row[1].c_str());
    for (const auto& [product, table] : held) {
      tx.exec_params(
          "UPDATE bus_table_leases SET lease_until = GREATEST(lease_until, clock_timestamp() + "
          "$4::bigint * interval '1 millisecond') WHERE product = $1 AND table_name = $2 "
          "AND consumer = $3",
          product, table, consumer, static_cast<std::int64_t>(lease.count()));
    }
  });
}

std::size_t PostgresBus::requeue_expired() {
  const std::size_t requeued = pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    const auto r = tx.exec(
        "UPDATE bus_events SET consumer = NULL, lease_until = NULL "
        "WHERE consumer IS NOT NULL AND lease_until <= clock_timestamp()");
    tx.exec("DELETE FROM bus_table_leases WHERE lease_until <= clock_timestamp()");
    tx.exec("DELETE FROM bus_consumers WHERE seen_until <= clock_timestamp()");
    return static_cast<std::size_t>(r.affected_rows());
  });
  // The periodic sweep: partitions no settlement happened to touch.
  std::set<std::uint64_t> all;
  Position head = 0;
  pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    all.clear();
    head = tx.exec("SELECT last_position FROM bus_head WHERE id = 1")[0][0].as<Position>();
    const auto rows = tx.exec(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'bus_events'::regclass");
    for (const auto& row : rows) {
      const std::string name = row[0].c_str();
      const std::string prefix = "bus_events_";
      if (name.rfind(prefix, 0) == 0) all.insert(std::stoull(name.substr(prefix.size())));
    }
  });
  std::set<std::uint64_t> complete;
  for (const std::uint64_t k : all) {
    if ((k + 1) * partition_width_ <= head) complete.insert(k);
  }
  drop_settled_partitions(complete);
  return requeued;
}

// ------------------------------------------------------------ settlements

std::set<std::uint64_t> PostgresBus::partitions_of(const std::vector<Position>& positions) const {
  // Only partitions wholly at or below a position that exists, i.e. the head.
  std::set<std::uint64_t> out;
  if (positions.empty()) return out;
  const Position highest = *std::max_element(positions.begin(), positions.end());
  for (const Position p : positions) {
    if (p == 0) continue;
    const std::uint64_t k = (p - 1) / partition_width_;
    if ((k + 1) * partition_width_ <= highest) out.insert(k);
  }
  return out;
}

void PostgresBus::drop_settled_partitions(const std::set<std::uint64_t>& candidates) {
  for (const std::uint64_t k : candidates) {
    const std::string name = partition_name(k);
    try {
      const bool dropped = pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
        tx.exec(kDropLockTimeout);
        if (tx.exec_params("SELECT to_regclass($1) IS NULL", name)[0][0].as<bool>()) return true;
        // Parent first, as claims and publishes lock it: no lock-order cycle.
        tx.exec("LOCK TABLE bus_events IN ACCESS EXCLUSIVE MODE");
        // Another settlement may have dropped it while this one waited.
        if (tx.exec_params("SELECT to_regclass($1) IS NULL", name)[0][0].as<bool>()) return true;
        if (tx.exec("SELECT EXISTS (SELECT 1 FROM " + name + ")")[0][0].as<bool>()) return false;
        tx.exec("DROP TABLE " + name);
        return true;
      });
      if (dropped) {
        std::lock_guard known(partitions_mu_);
        known_partitions_.erase(k);
      }
    } catch (const Error& e) {
      if (e.code() != ErrorCode::unavailable) throw;
      // Busy or unreachable: the records are settled either way; a later
      // settlement or requeue_expired() drops the partition.
    }
  }
}

void PostgresBus::ack(const std::string& consumer, const std::vector<Position>& positions) {
  if (positions.empty()) return;
  pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    tx.exec_params("DELETE FROM bus_events WHERE position = ANY($2::bigint[]) AND consumer = $1",
                   consumer, pg::bigint_array(positions));
    tx.exec_params(kReleaseTableLeases, consumer);
  });
  drop_settled_partitions(partitions_of(positions));
}

namespace {

// Moves `consumer`'s records among `positions` (with at least `min_attempts`
// deliveries) to the dead-letter area.
void move_to_dead_letters(Tx& tx, const std::string& consumer,
                          const std::vector<Position>& positions, const std::string& reason,
                          std::uint32_t min_attempts) {
  tx.exec_params(
      std::string("WITH dead AS (DELETE FROM bus_events WHERE position = ANY($1::bigint[]) "
                  "AND consumer = $2 AND attempts >= $3 RETURNING ") +
          kReturnedColumns +
          ") INSERT INTO bus_dead_letters (position, product, table_name, idem_key, payload, "
          "ingested_unix_us, attempts, reason, dead_unix_us) SELECT position, product, "
          "table_name, idem_key, payload, ingested_unix_us, attempts, $4, $5 FROM dead",
      pg::bigint_array(positions), consumer, static_cast<std::int64_t>(min_attempts),
      as_text(reason), system_now_us());
}

}  // namespace

void PostgresBus::dead_letter(const std::string& consumer, const std::vector<Position>& positions,
                              const std::string& reason) {
  if (positions.empty()) return;
  pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    move_to_dead_letters(tx, consumer, positions, reason, 0);
    tx.exec_params(kReleaseTableLeases, consumer);
  });
  drop_settled_partitions(partitions_of(positions));
}

void PostgresBus::nack(const std::string& consumer, const std::vector<Position>& positions,
                       const std::string& reason) {
  if (positions.empty()) return;
  pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    move_to_dead_letters(tx, consumer, positions, reason, options_.max_attempts);
    tx.exec_params(
        "UPDATE bus_events SET consumer = NULL, lease_until = NULL "
        "WHERE position = ANY($2::bigint[]) AND consumer = $1",
        consumer, pg::bigint_array(positions));
    tx.exec_params(kReleaseTableLeases, consumer);
  });
  drop_settled_partitions(partitions_of(positions));
}

void PostgresBus::release(const std::string& consumer, const std::vector<Position>& positions) {
  if (positions.empty()) return;
  pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    // This delivery does not count against max_attempts.
    tx.exec_params(
        "UPDATE bus_events SET consumer = NULL, lease_until = NULL, "
        "attempts = GREATEST(attempts - 1, 0) WHERE position = ANY($2::bigint[]) "
        "AND consumer = $1",
        consumer, pg::bigint_array(positions));
    tx.exec_params(kReleaseTableLeases, consumer);
  });
}

// ----------------------------------------------------------- dead letters

std::vector<DeadLetter> PostgresBus::dead_letters(std::size_t limit,
                                                  const std::string& product) const {
  return pg::run_transaction<pqxx::read_transaction>(*pool_, [&](Tx& tx) {
    const auto rows =
        tx.exec_params(std::string("SELECT ") + kReturnedColumns +
                           ", reason, dead_unix_us FROM bus_dead_letters "
                           "WHERE ($2 = '' OR product = $2) "
                           "ORDER BY dead_unix_us, position LIMIT $1",
                       static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)), product);
    std::vector<DeadLetter> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      DeadLetter d;
      d.record = read_record(row);
      d.reason = row[7].c_str();
      d.dead_unix_us = row[8].as<std::int64_t>();
      out.push_back(std::move(d));
    }
    return out;
  });
}

Position PostgresBus::replay_dead_letter(Position position) {
  std::vector<std::uint64_t> created;
  const Position replayed_as = pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    created.clear();
    if (tx.exec_params("SELECT 1 FROM bus_dead_letters WHERE position = $1 FOR UPDATE",
                       static_cast<std::int64_t>(position))
            .empty()) {
      boost::json::object details;
      details["position"] = position;
      throw Error(ErrorCode::not_found, "no dead letter at position " + std::to_string(position),
                  std::move(details));
    }
    const Position p = tx.exec(
                             "UPDATE bus_head SET last_position = last_position + 1 WHERE id = 1 "
                             "RETURNING last_position")[0][0]
                           .as<Position>();
    ensure_partitions(tx, p, p, created);
    // The original ingest time is kept: it is when the event arrived.
    tx.exec_params(
        "WITH moved AS (DELETE FROM bus_dead_letters WHERE position = $1 RETURNING *) "
        "INSERT INTO bus_events (position, product, table_name, idem_key, payload, "
        "ingested_unix_us) SELECT $2, product, table_name, idem_key, payload, ingested_unix_us "
        "FROM moved",
        static_cast<std::int64_t>(position), static_cast<std::int64_t>(p));
    return p;
  });
  std::lock_guard lock(partitions_mu_);
  known_partitions_.insert(created.begin(), created.end());
  return replayed_as;
}

// ------------------------------------------------------------------ stats

BusStats PostgresBus::stats() const {
  return pg::run_transaction<pqxx::read_transaction>(*pool_, [&](Tx& tx) {
    const auto row = tx.exec(
        "SELECT (SELECT last_position FROM bus_head WHERE id = 1), "
        "(SELECT count(*) FROM bus_events "
        " WHERE consumer IS NULL OR lease_until <= clock_timestamp()), "
        "(SELECT count(*) FROM bus_events "
        " WHERE consumer IS NOT NULL AND lease_until > clock_timestamp()), "
        "(SELECT count(*) FROM bus_dead_letters)")[0];
    BusStats s;
    s.last_position = row[0].as<Position>();
    s.pending = row[1].as<std::uint64_t>();
    s.in_flight = row[2].as<std::uint64_t>();
    s.dead_letters = row[3].as<std::uint64_t>();
    return s;
  });
}

void PostgresBus::leave(const std::string& consumer) {
  require_consumer(consumer, "leave");
  pg::run_transaction<pqxx::work>(*pool_, [&](Tx& tx) {
    tx.exec_params("DELETE FROM bus_consumers WHERE consumer = $1", consumer);
    tx.exec_params(kReleaseTableLeases, consumer);
  });
}

std::map<std::string, Position> PostgresBus::unsettled_keys(
    const std::string& product, const std::string& table,
    const std::vector<std::string>& keys) const {
  std::map<std::string, Position> found;
  if (keys.empty()) return found;
  // One bytea[] parameter, so the comparison is with a constant array and
  // each partition's key index is probed, not scanned.
  const std::string array = pg::bytea_array(keys);
  pg::run_transaction<pqxx::read_transaction>(*pool_, [&](Tx& tx) {
    found.clear();
    auto rows = tx.exec_params(
        "SELECT idem_key, min(position) FROM bus_events "
        "WHERE product = $1 AND table_name = $2 AND idem_key <> ''::bytea "
        "AND idem_key = ANY ($3::bytea[]) "
        "GROUP BY idem_key",
        product, table, array);
    for (const auto& row : rows) {
      found[pqxx::binarystring(row[0]).str()] = row[1].as<Position>();
    }
  });
  return found;
}

Position PostgresBus::last_position() const {
  return pg::run_transaction<pqxx::read_transaction>(*pool_, [&](Tx& tx) {
    return tx.exec("SELECT last_position FROM bus_head WHERE id = 1")[0][0].as<Position>();
  });
}

std::size_t PostgresBus::partition_count() const {
  return pg::run_transaction<pqxx::read_transaction>(*pool_, [&](Tx& tx) {
    return tx
        .exec("SELECT count(*) FROM pg_inherits WHERE inhparent = 'bus_events'::regclass")[0][0]
        .as<std::size_t>();
  });
}

}  // namespace duckmesh::bus
