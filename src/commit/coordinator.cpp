#include "commit/coordinator.hpp"

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <set>

#include "commit/payload_reader.hpp"
#include "common/error.hpp"
#include "common/fault.hpp"
#include "common/thread_name.hpp"
#include "duck/sql_literal.hpp"
#include "duck/value.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "schema/binary_payload.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::commit {

namespace {

struct Metrics {
  obs::Counter& committed;
  obs::Counter& duplicates;
  obs::Counter& dead_lettered;
  obs::Counter& files;
  obs::Counter& failures;
  obs::Histogram& cycle_seconds;
  obs::Gauge& watermark;

  static Metrics& get() {
    auto& r = obs::Registry::global();
    static Metrics m{
        r.counter("duckmesh_commit_events_total", "Events written to data files by the coordinator")
            .get(),
        r.counter("duckmesh_commit_duplicates_total",
                  "Events dropped for an idempotency key already committed")
            .get(),
        r.counter("duckmesh_commit_dead_letters_total", "Events moved to the dead-letter area")
            .get(),
        r.counter("duckmesh_commit_files_total", "Data files written by the coordinator").get(),
        r.counter("duckmesh_commit_failures_total", "Commit cycles that failed and were retried")
            .get(),
        r.histogram("duckmesh_commit_cycle_seconds",
                    "Duration of one claim-write-publish-ack cycle")
            .get(),
        r.gauge("duckmesh_bus_watermark", "Every bus position up to this one is resolved").get(),
    };
    return m;
  }
};

// The records' positions, in their order.
std::vector<bus::Position> positions_of(const std::vector<bus::Record>& records) {
  std::vector<bus::Position> positions;
  positions.reserve(records.size());
  for (const auto& r : records) positions.push_back(r.position);
  return positions;
}

// Positions as inclusive ranges, for the catalog.
std::vector<catalog::PositionRange> to_ranges(std::vector<bus::Position> positions) {
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  std::vector<catalog::PositionRange> ranges;
  for (auto p : positions) {
    if (!ranges.empty() && ranges.back().last + 1 == p) {
      ranges.back().last = p;
    } else {
      ranges.push_back({p, p});
    }
  }
  return ranges;
}

std::string partition_expression(const catalog::PartitionSpec& spec) {
  std::string col = schema::quote_identifier(spec.column);
  if (spec.transform == "day") return "strftime(" + col + ", '%Y-%m-%d')";
  if (spec.transform == "month") return "strftime(" + col + ", '%Y-%m')";
  if (spec.transform == "year") return "strftime(" + col + ", '%Y')";
  return "CAST(" + col + " AS VARCHAR)";
}

// A scratch file name no other writer uses: coordinators of one process, and
// processes of other nodes or containers (pids repeat across them), may share
// the store's scratch directory.
std::string scratch_name(std::string_view kind, std::string_view suffix) {
  std::string name = storage::unique_key(kind, suffix);
  std::replace(name.begin(), name.end(), '/', '-');
  return name;
}

// Thrown when DuckDB refuses the values of a group: isolate the bad records.
struct DataError {
  std::string message;
};

}  // namespace

struct Coordinator::Group {
  catalog::TableInfo table;
  std::vector<const bus::Record*> records;
  std::vector<bus::Position> positions;  // records[i]->position, kept beside them
  bool has_keys = false;                 // some record carries an idempotency key
};

Coordinator::Coordinator(catalog::CatalogRepo& catalog, bus::IngestBus& bus,
                         storage::ObjectStore& store, CoordinatorOptions options)
    : catalog_(catalog), bus_(bus), store_(store), options_(std::move(options)) {
  if (!options_.commit && options_.watermark_poll.count() <= 0) {
    // Nothing else would ever move its watermark: waits would never end.
    throw Error(ErrorCode::invalid_input,
                "a coordinator that does not commit must follow the catalog (watermark_poll > 0)",
                {{"field", "watermark_poll"}});
  }
  duck::DatabaseOptions db_options;
  if (options_.duckdb_threads > 0) db_options.threads = options_.duckdb_threads;
  duckdb_ = std::make_unique<duck::Database>(":memory:", db_options);
  conn_ = std::make_unique<duck::Connection>(*duckdb_);
  // Timestamps without an offset are UTC; with an offset they are converted.
  conn_->execute("SET TimeZone='UTC'");
  // Bus order within a file is not needed (readers order by _dm_position
  // where it matters), and without it DuckDB writes a file on all threads.
  conn_->execute("SET preserve_insertion_order = false");
  duckdb_threads_ = static_cast<std::size_t>(
      duck::to_int64(*conn_->query("SELECT current_setting('threads')").scalar()));
  rows_ = std::make_unique<duck::RowSource>(*conn_, "duckmesh_batch");
  watermark_ = catalog_.watermark();
  Metrics::get().watermark.set(static_cast<double>(watermark_.load()));
  if (options_.commit) reconcile_dead_letters();
}

Coordinator::~Coordinator() {
  stop();
}

void Coordinator::reconcile_dead_letters() {
  // A crash between dead-lettering and publishing leaves a dead letter the
  // catalog has not resolved; resolve it so the watermark can pass it.
  std::vector<bus::Position> unresolved;
  for (const auto& dead : bus_.dead_letters(1'000'000)) {
    if (dead.record.position > catalog_.watermark()) unresolved.push_back(dead.record.position);
  }
  if (unresolved.empty()) return;
  auto already = catalog_.resolved_among(unresolved);
  std::set<bus::Position> done(already.begin(), already.end());
  std::vector<bus::Position> to_resolve;
  for (auto p : unresolved) {
    if (!done.count(p)) to_resolve.push_back(p);
  }
  if (!to_resolve.empty()) catalog_.resolve_positions(to_ranges(to_resolve));
  watermark_ = catalog_.watermark();
}

std::pair<std::filesystem::path, std::string> Coordinator::new_file_paths(
    const catalog::TableInfo& table, const std::optional<std::string>& partition) {
  std::string prefix = "products/" + table.product + "/tables/" + table.name + "/data";
  if (table.partition.enabled()) {
    prefix += "/" + table.partition.column + "=" +
              (partition ? storage::key_segment(*partition) : "__null__");
  }
  auto local = store_.scratch_dir() / scratch_name("write", ".parquet");
  return {local, storage::unique_key(prefix, ".parquet")};
}

Coordinator::Written Coordinator::written_statistics(
    duck::Result copy_result, const std::vector<const schema::Column*>& stat_columns,
    const schema::TableSchema& table_schema) {
  // COPY ... (RETURN_STATS) answers one row per file written: its row count
  // and, per column, a map of statistic name -> text, already folded over
  // the row groups and printed as min(column)::VARCHAR prints them, except
  // booleans (0/1). A column that has values but no min/max (DuckDB leaves
  // them out for strings it cannot cut), or whose bound is 256 bytes or
  // more (cut short and incremented), or a double holding NaN, gets unknown
  // bounds: no pruning on it.
  auto chunk = copy_result.next_chunk();
  if (!chunk || chunk->size() != 1 || chunk->column_count() < 5) {
    throw Error(ErrorCode::internal, "COPY with RETURN_STATS did not answer one row per file");
  }
  Written written;
  written.row_count = chunk->get_int64(1, 0);
  std::map<std::string, std::map<std::string, std::string>, std::less<>> by_column;
  auto columns = chunk->column(4);
  auto entry = columns.get_list(0);
  auto pairs = columns.list_child();
  auto names = pairs.field(0);
  auto values = pairs.field(1);
  auto stat_pairs = values.list_child();
  auto stat_names = stat_pairs.field(0);
  auto stat_values = stat_pairs.field(1);
  for (auto i = entry.offset; i < entry.offset + entry.length; ++i) {
    auto& stats = by_column[names.get_string(i)];
    if (values.is_null(i)) continue;
    auto slice = values.get_list(i);
    for (auto j = slice.offset; j < slice.offset + slice.length; ++j) {
      if (!stat_values.is_null(j)) stats[stat_names.get_string(j)] = stat_values.get_string(j);
    }
  }
  std::vector<std::pair<std::string, bool>> wanted;  // name, boolean
  for (const auto* c : stat_columns) {
    wanted.emplace_back(c->name, c->type.kind == schema::TypeKind::boolean);
  }
  wanted.emplace_back(schema::kPositionColumn, false);
  for (const auto& [name, boolean] : wanted) {
    catalog::ColumnStats s;
    s.column = name;
    std::string key = "\"";
    for (char ch : name) key += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    key += '"';
    auto found = by_column.find(key);
    if (found != by_column.end()) {
      const auto& stats = found->second;
      auto stat = [&](const char* what) -> const std::string* {
        auto it = stats.find(what);
        return it == stats.end() ? nullptr : &it->second;
      };
      const auto *min = stat("min"), *max = stat("max"), *nulls = stat("null_count");
      const auto* nan = stat("has_nan");
      std::int64_t null_count = -1;
      if (nulls) std::from_chars(nulls->data(), nulls->data() + nulls->size(), null_count);
      const bool all_null = null_count == written.row_count;
      const bool bounded =
          min && max && min->size() < 256 && max->size() < 256 && !(nan && *nan == "true");
      if (null_count >= 0 && (bounded || (all_null && !min && !max))) {
        if (bounded) {
          s.min = boolean ? std::string(*min == "0" ? "false" : "true") : *min;
          s.max = boolean ? std::string(*max == "0" ? "false" : "true") : *max;
        }
        s.null_count = null_count;
      }
    }
    written.stats.push_back(std::move(s));
  }
  // Columns kept out of statistics still show that the file has them.
  for (const auto& c : table_schema.columns) {
    bool listed = std::any_of(stat_columns.begin(), stat_columns.end(),
                              [&](const schema::Column* s) { return s->name == c.name; });
    if (!listed) written.stats.push_back({c.name, std::nullopt, std::nullopt, 0});
  }
  return written;
}

std::filesystem::path Coordinator::stage_ndjson(const std::vector<const bus::Record*>& records) {
  // The events as NDJSON with the system columns spliced in front of each
  // payload object, built in memory and written at once.
  auto scratch = store_.scratch_dir();
  std::filesystem::create_directories(scratch);
  auto staging = scratch / scratch_name("staging", ".ndjson");
  const std::string position_prefix = std::string("{\"") + schema::kPositionColumn + "\":";
  const std::string ingested_prefix = std::string(",\"") + schema::kIngestedAtColumn + "\":";
  std::size_t size = 0;
  for (const auto* r : records) size += r->payload.size() + 64;
  std::string text;
  text.reserve(size);
  char number[24];
  std::string converted;
  for (const auto* r : records) {
    std::string_view payload = r->payload;
    if (schema::is_binary_payload(payload)) {
      // Validated while the table had only scalar columns.
      converted = schema::payload_json(payload);
      payload = converted;
    }
    text += position_prefix;
    text.append(number, std::to_chars(number, number + sizeof number, r->position).ptr);
    text += ingested_prefix;
    text.append(number, std::to_chars(number, number + sizeof number, r->ingested_unix_us).ptr);
    auto body = payload.substr(1);  // after '{'
    auto first = body.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && body[first] != '}') text += ',';
    text += body;
    text += '\n';
  }
  std::ofstream out(staging, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) {
    std::error_code ec;
    std::filesystem::remove(staging, ec);
    throw Error(ErrorCode::unavailable, "cannot write staging file " + staging.string());
  }
  return staging;
}

std::string Coordinator::read_json_source(const std::filesystem::path& staging,
                                          const schema::TableSchema& table_schema, bool keyed) {
  std::string columns = "{";
  std::string select;
  for (const auto& c : table_schema.columns) {
    // Timestamps are read as text and cast, so RFC 3339 offsets are honoured.
    bool temporal = c.type.kind == schema::TypeKind::timestamp;
    columns += duck::quote_literal(c.name) + ": " +
               duck::quote_literal(temporal ? "VARCHAR" : c.type.sql()) + ", ";
    if (temporal) {
      // epoch_us + make_timestamp is the UTC wall time without going through
      // a time-zone calendar: the same value as CAST(... AS TIMESTAMP) under
      // TimeZone='UTC', several times cheaper.
      select += "make_timestamp(epoch_us(CAST(" + schema::quote_identifier(c.name) +
                " AS TIMESTAMPTZ))) AS " + schema::quote_identifier(c.name) + ", ";
    } else {
      select += schema::quote_identifier(c.name) + ", ";
    }
  }
  columns += duck::quote_literal(schema::kPositionColumn) + ": 'UBIGINT', " +
             duck::quote_literal(schema::kIngestedAtColumn) + ": 'BIGINT'";
  select += schema::quote_identifier(schema::kPositionColumn) + ", make_timestamptz(" +
            schema::quote_identifier(schema::kIngestedAtColumn) + ") AS " +
            schema::quote_identifier(schema::kIngestedAtColumn);
  if (keyed) {
    columns += ", " + duck::quote_literal(schema::kOperationColumn) + ": 'VARCHAR'";
    select += ", COALESCE(" + schema::quote_identifier(schema::kOperationColumn) +
              ", 'upsert') AS " + schema::quote_identifier(schema::kOperationColumn);
  }
  columns += "}";
  return "SELECT " + select + " FROM read_json(" + duck::quote_literal(staging.string()) +
         ", format='newline_delimited', columns=" + columns + ")";
}

std::string Coordinator::parquet_options() const {
  return " (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE " +
         std::to_string(options_.row_group_size) + ", DICTIONARY_SIZE_LIMIT " +
         std::to_string(options_.dictionary_size_limit) + ", RETURN_STATS)";
}

std::vector<catalog::NewFile> Coordinator::write_records(
    const catalog::TableInfo& table, const std::vector<const bus::Record*>& records) {
  auto table_schema = schema::TableSchema::from_json_text(table.schema_json);
  bool keyed = table.kind == catalog::TableKind::keyed;

  // The batch as a relation with the table's columns and the system
  // columns. Tables of scalar columns are read straight from the records
  // (PayloadReader); json and list columns go through an NDJSON staging file
  // and DuckDB's read_json.
  std::optional<std::filesystem::path> staging;
  std::string source;
  const bool direct = PayloadReader::supports(table_schema);
  if (direct) {
    source = "SELECT * FROM " + rows_->name() + "()";
  } else {
    staging = stage_ndjson(records);
    source = read_json_source(*staging, table_schema, keyed);
  }
  struct Cleanup {
    const std::optional<std::filesystem::path>& path;
    ~Cleanup() {
      std::error_code ec;
      if (path) std::filesystem::remove(*path, ec);
    }
  } cleanup{staging};
  // Runs a statement that reads `source`. The records are read on all of
  // DuckDB's threads, one reader each, taking a chunk's worth of records at
  // a time; rows land in the file in the order the threads finish (readers
  // order by _dm_position where it matters).
  auto run = [&](const std::string& sql) {
    if (!direct) return conn_->query(sql);
    // One reader per scan slot (normally one per DuckDB thread).
    std::mutex readers_mutex;
    std::map<std::size_t, std::unique_ptr<PayloadReader>> readers;
    std::atomic<std::size_t> next{0};
    duck::RowSource::Producer produce = [&](duck::ChunkWriter& out, std::size_t slot) -> idx_t {
      PayloadReader* reader;
      {
        std::lock_guard lock(readers_mutex);
        auto& r = readers[slot];
        if (!r) r = std::make_unique<PayloadReader>(table_schema, keyed);
        reader = r.get();
      }
      const std::size_t from = next.fetch_add(out.capacity());
      if (from >= records.size()) return 0;
      const std::size_t to = std::min(records.size(), from + out.capacity());
      for (std::size_t i = from; i < to; ++i) reader->read(*records[i], out, i - from);
      return to - from;
    };
    return rows_->query(sql, PayloadReader::columns_of(table_schema, keyed), produce,
                        duckdb_threads_);
  };

  // Statistics for pruning: min/max/null count of every scalar column.
  std::vector<const schema::Column*> stat_columns;
  for (const auto& c : table_schema.columns) {
    if (c.type.kind != schema::TypeKind::list && c.type.kind != schema::TypeKind::json) {
      stat_columns.push_back(&c);
    }
  }

  if (!table.partition.enabled()) {
    // One pass: DuckDB reads the batch and writes the Parquet file (rows in
    // the order DuckDB's threads finish, see above), and answers with the
    // file's column statistics.
    auto [local, key] = new_file_paths(table, std::nullopt);
    catalog::NewFile file;
    file.table = table.name;
    file.path = std::move(key);
    try {
      auto written =
          written_statistics(run("COPY (" + source + ") TO " + duck::quote_literal(local.string()) +
                                 parquet_options()),
                             stat_columns, table_schema);
      file.row_count = written.row_count;
      file.stats = std::move(written.stats);
    } catch (const Error& e) {
      std::error_code ec;
      std::filesystem::remove(local, ec);
      // Values that do not convert are the events' fault: bisect them out.
      // Anything else (I/O, memory) fails the cycle and the batch goes back.
      if (e.code() != ErrorCode::invalid_input) throw;
      throw DataError{std::string(e.message())};
    }
    file.bytes = static_cast<std::int64_t>(std::filesystem::file_size(local));
    store_.put_file(file.path, local);
    fault::maybe_crash("after_parquet_write");
    return {std::move(file)};
  }

  std::string partition = partition_expression(table.partition);
  try {
    run("CREATE OR REPLACE TEMP TABLE staged AS SELECT *, " + partition +
        " AS _dm_partition FROM (" + source + ")");
  } catch (const Error& e) {
    if (e.code() != ErrorCode::invalid_input) throw;
    throw DataError{std::string(e.message())};
  }

  std::vector<std::optional<std::string>> partitions;
  for (auto& row :
       conn_->query("SELECT DISTINCT _dm_partition FROM staged ORDER BY 1").fetch_all()) {
    partitions.push_back(duck::text_or_null(row[0]));
  }

  std::vector<catalog::NewFile> files;
  for (const auto& part : partitions) {
    std::string where =
        part ? "_dm_partition = " + duck::quote_literal(*part) : "_dm_partition IS NULL";
    auto [local, key] = new_file_paths(table, part);
    catalog::NewFile file;
    file.table = table.name;
    file.path = std::move(key);
    boost::json::object pj;
    pj[table.partition.column] = part ? boost::json::value(*part) : boost::json::value(nullptr);
    file.partition_json = boost::json::serialize(pj);
    auto written = written_statistics(
        conn_->query("COPY (SELECT * EXCLUDE (_dm_partition) FROM staged WHERE " + where + ") TO " +
                     duck::quote_literal(local.string()) + parquet_options()),
        stat_columns, table_schema);
    file.row_count = written.row_count;
    file.stats = std::move(written.stats);
    file.bytes = static_cast<std::int64_t>(std::filesystem::file_size(local));
    store_.put_file(file.path, local);
    fault::maybe_crash("after_parquet_write");
    files.push_back(std::move(file));
  }
  conn_->execute("DROP TABLE IF EXISTS staged");
  return files;
}

void Coordinator::write_group(Group& group, std::vector<catalog::NewFile>& files,
                              std::vector<const bus::Record*>& bad,
                              std::vector<std::string>& bad_reasons) {
  // Bisect on data errors so one bad record costs log2(n) retries, and the
  // good records still commit.
  std::vector<std::vector<const bus::Record*>> work{group.records};
  while (!work.empty()) {
    auto slice = std::move(work.back());
    work.pop_back();
    try {
      auto written = write_records(group.table, slice);
      files.insert(files.end(), written.begin(), written.end());
    } catch (const DataError& e) {
      if (slice.size() == 1) {
        bad.push_back(slice[0]);
        bad_reasons.push_back(e.message);
      } else {
        auto mid = slice.begin() + static_cast<std::ptrdiff_t>(slice.size() / 2);
        work.emplace_back(slice.begin(), mid);
        work.emplace_back(mid, slice.end());
      }
    }
  }
}

void Coordinator::refresh_watermark() {
  bus::Position latest;
  try {
    latest = catalog_.watermark();
  } catch (const std::exception& e) {
    log::warn("reading the catalog watermark failed; retrying", {{"error", e.what()}});
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (latest <= watermark_.load()) return;
    watermark_ = latest;
  }
  Metrics::get().watermark.set(static_cast<double>(latest));
  resolved_.notify_all();
}

CommitResult Coordinator::commit_once() {
  return commit_cycle(false);
}

void Coordinator::finish_ack() {
  if (pending_ack_.valid()) pending_ack_.get();
}

std::vector<bus::Record> Coordinator::claim_records(std::size_t limit) {
  std::vector<bus::Record> out;
  {
    std::lock_guard lock(spare_mutex_);
    if (!spare_batches_.empty()) {
      out = std::move(spare_batches_.back());
      spare_batches_.pop_back();
    }
  }
  bus_.claim_batch_into(options_.consumer, limit, options_.lease, out);
  if (out.size() < options_.max_batch_events) {
    // Batches no longer come full: their room goes back to the allocator.
    std::lock_guard lock(spare_mutex_);
    spare_batches_.clear();
  }
  return out;
}

void Coordinator::recycle_batch(std::vector<bus::Record> batch) {
  const bool full = batch.size() >= options_.max_batch_events;
  batch.clear();  // the payloads go now, whatever happens to the room
  if (!full) return;
  std::lock_guard lock(spare_mutex_);
  if (spare_batches_.size() < 2) spare_batches_.push_back(std::move(batch));
}

CommitResult Coordinator::commit_cycle(bool defer_ack) {
  auto started = std::chrono::steady_clock::now();
  CommitResult result;
  const bool claimed_ahead = next_claim_.valid();
  auto records = claimed_ahead ? next_claim_.get() : claim_records(options_.max_batch_events);
  if (claimed_ahead && records.size() < options_.max_batch_events) {
    // A batch claimed ahead holds what had arrived when the previous cycle
    // began: under steady load, often a few thousand events. Topped up with
    // what came since, the cycle writes one full file instead of a small one
    // (a cycle's fixed cost, ~7 ms, for a handful of events) and then
    // another.
    std::vector<bus::Record> more;
    try {
      more = bus_.claim_batch(options_.consumer, options_.max_batch_events - records.size(),
                              options_.lease);
    } catch (const std::exception& e) {
      // The batch claimed ahead is written as it is; the next claim meets
      // the failure again.
      log::warn("topping up a batch claimed ahead failed", {{"error", e.what()}});
    }
    if (!more.empty()) {
      const auto middle = static_cast<std::ptrdiff_t>(records.size());
      records.reserve(records.size() + more.size());
      std::move(more.begin(), more.end(), std::back_inserter(records));
      // Records go in position order (a record returned to the bus meanwhile
      // may sit below the ones claimed ahead): of two events with one key,
      // the first published is the one kept.
      auto by_position = [](const bus::Record& a, const bus::Record& b) {
        return a.position < b.position;
      };
      if (middle > 0 && records[static_cast<std::size_t>(middle)].position <
                            records[static_cast<std::size_t>(middle) - 1].position) {
        std::inplace_merge(records.begin(), records.begin() + middle, records.end(), by_position);
      }
    }
  }
  result.claimed = records.size();
  if (records.empty()) return result;
  if (defer_ack && records.size() >= options_.max_batch_events) {
    // A full batch: more is probably waiting. It is claimed while this one
    // is written (copying 100k records out of the log takes milliseconds
    // the commit's path need not wait for); the next cycle takes it.
    next_claim_ =
        std::async(std::launch::async, [this] { return claim_records(options_.max_batch_events); });
  }

  const std::vector<bus::Position> all_positions = positions_of(records);

  try {
    // Step 2: what a crash left committed but unacked.
    std::set<bus::Position> resolved_before;
    {
      std::vector<bus::Position> above;
      above.reserve(all_positions.size());
      auto wm = catalog_.watermark();
      for (auto p : all_positions) {
        if (p <= wm) {
          resolved_before.insert(p);
        } else {
          above.push_back(p);
        }
      }
      for (auto p : catalog_.resolved_among(above)) resolved_before.insert(p);
    }
    result.already_resolved = resolved_before.size();

    // Step 3: group, dedupe.
    std::map<std::pair<std::string, std::string>, Group> groups;
    std::vector<const bus::Record*> missing_table;
    std::vector<bus::Position> resolved;  // positions this cycle resolves
    resolved.reserve(records.size());
    // Records come in runs of one table: the group is looked up once per run.
    const bus::Record* run = nullptr;
    Group* run_group = nullptr;
    for (const auto& r : records) {
      if (!resolved_before.empty() && resolved_before.count(r.position)) continue;
      if (run == nullptr || run->product != r.product || run->table != r.table) {
        run = &r;
        auto key = std::make_pair(r.product, r.table);
        auto it = groups.find(key);
        if (it == groups.end()) {
          auto table = catalog_.find_table(r.product, r.table);
          if (table) {
            Group group;
            group.table = std::move(*table);
            // Batches are mostly of one table: the first group gets room
            // for the whole batch at once (not per group: a batch of many
            // tables would reserve many times over).
            if (groups.empty()) {
              group.records.reserve(records.size());
              group.positions.reserve(records.size());
            }
            it = groups.emplace(key, std::move(group)).first;
          }
        }
        run_group = it == groups.end() ? nullptr : &it->second;
      }
      if (run_group == nullptr) {
        missing_table.push_back(&r);
        continue;
      }
      run_group->records.push_back(&r);
      run_group->positions.push_back(r.position);
      run_group->has_keys = run_group->has_keys || !r.idempotency_key.empty();
    }
    std::map<std::string, catalog::Publication> publications;
    for (auto& [key, group] : groups) {
      // Without keys there is nothing to drop: the batch's records are not
      // walked again (each walk over a 200k batch costs milliseconds).
      if (!group.has_keys) continue;
      std::vector<std::string> keys;
      for (const auto* r : group.records) {
        if (!r->idempotency_key.empty()) keys.push_back(r->idempotency_key);
      }
      auto known = keys.empty() ? std::map<std::string, catalog::IdempotencyHit>{}
                                : catalog_.find_idempotency(key.first, key.second, keys);
      std::set<std::string> seen;
      std::vector<const bus::Record*> kept;
      std::vector<bus::Position> kept_positions;
      kept.reserve(group.records.size());
      kept_positions.reserve(group.records.size());
      for (const auto* r : group.records) {
        if (!r->idempotency_key.empty() &&
            (known.count(r->idempotency_key) || !seen.insert(r->idempotency_key).second)) {
          resolved.push_back(r->position);
          ++result.duplicates;
          continue;
        }
        kept.push_back(r);
        kept_positions.push_back(r->position);
      }
      group.records = std::move(kept);
      group.positions = std::move(kept_positions);
    }

    // Step 4: write files.
    std::vector<const bus::Record*> bad;
    std::vector<std::string> bad_reasons;
    for (const auto* r : missing_table) {
      bad.push_back(r);
      bad_reasons.push_back("table '" + r->table + "' of product '" + r->product +
                            "' does not exist (dropped after the event was accepted?)");
    }
    for (auto& [key, group] : groups) {
      if (group.records.empty()) continue;
      std::vector<catalog::NewFile> files;
      std::size_t bad_before = bad.size();
      write_group(group, files, bad, bad_reasons);
      std::set<const bus::Record*> failed(bad.begin() + static_cast<std::ptrdiff_t>(bad_before),
                                          bad.end());
      auto& pub = publications[key.first];
      pub.product = key.first;
      pub.operation = catalog::Operation::ingest;
      std::size_t rows = 0;
      if (failed.empty() && !group.has_keys) {
        resolved.insert(resolved.end(), group.positions.begin(), group.positions.end());
        rows = group.positions.size();
      } else {
        for (const auto* r : group.records) {
          if (failed.count(r)) continue;
          resolved.push_back(r->position);
          ++rows;
          if (!r->idempotency_key.empty()) {
            pub.idempotency.push_back({r->table, r->idempotency_key, r->position});
          }
        }
      }
      result.committed += rows;
      result.files += files.size();
      for (auto& f : files) pub.added.push_back(std::move(f));
    }

    // Dead letters first: a crash after this leaves them in the area, and
    // reconcile_dead_letters() resolves them on the next start.
    if (!bad.empty()) {
      std::map<std::string, std::vector<bus::Position>> by_reason;
      for (std::size_t i = 0; i < bad.size(); ++i)
        by_reason[bad_reasons[i]].push_back(bad[i]->position);
      for (auto& [reason, positions] : by_reason) {
        bus_.dead_letter(options_.consumer, positions, reason);
        log::warn("events dead-lettered", {{"count", positions.size()}, {"reason", reason}});
        resolved.insert(resolved.end(), positions.begin(), positions.end());
      }
      result.dead_lettered = bad.size();
    }

    // Step 5: one transaction for every product touched.
    std::vector<catalog::Publication> pubs;
    for (auto& [product, pub] : publications) {
      boost::json::object summary{{"events", 0}, {"files", pub.added.size()}};
      std::int64_t events = 0;
      boost::json::object tables;
      for (const auto& f : pub.added) {
        events += f.row_count;
        auto& t = tables[f.table];
        if (t.is_null()) t = boost::json::object{{"events", 0}, {"files", 0}};
        t.as_object()["events"] = t.as_object()["events"].as_int64() + f.row_count;
        t.as_object()["files"] = t.as_object()["files"].as_int64() + 1;
      }
      summary["events"] = events;
      summary["tables"] = std::move(tables);
      pub.summary_json = boost::json::serialize(summary);
      pubs.push_back(std::move(pub));
    }
    fault::maybe_crash("before_catalog_commit");
    if (!pubs.empty()) {
      result.snapshots = catalog_.publish(pubs, to_ranges(resolved));
    } else if (!resolved.empty()) {
      catalog_.resolve_positions(to_ranges(resolved));
    }
    fault::maybe_crash("after_catalog_commit");

    // Step 6.
    std::vector<bus::Position> to_ack(resolved_before.begin(), resolved_before.end());
    to_ack.reserve(to_ack.size() + resolved.size());
    std::set<bus::Position> dead;
    for (const auto* r : bad) dead.insert(r->position);
    for (auto p : resolved) {
      if (!dead.count(p)) to_ack.push_back(p);
    }
    // At most one ack in flight: the previous cycle's ends first.
    finish_ack();
    if (defer_ack && !to_ack.empty()) {
      // The batch is visible; the ack only stops redelivery, and a crash
      // before it is harmless (step 2 recognises the positions). So it runs
      // while the next cycle claims and writes, and so does freeing the
      // batch (a free per payload: ~10 ms for 200k events, off the
      // cycle's path and outside the log's lock).
      pending_ack_ = std::async(std::launch::async, [this, to_ack = std::move(to_ack),
                                                     batch = std::move(records)]() mutable {
        try {
          bus_.ack(options_.consumer, to_ack);
        } catch (const std::exception& e) {
          log::warn("acking a published batch failed; it is recognised when redelivered",
                    {{"error", e.what()}, {"events", to_ack.size()}});
        }
        recycle_batch(std::move(batch));
      });
    } else if (!to_ack.empty()) {
      bus_.ack(options_.consumer, to_ack);
    }
  } catch (const std::exception& e) {
    Metrics::get().failures.inc();
    // An unavailable store or catalog (or one that timed out) is not the
    // events' fault: they go back without using up an attempt, so no outage
    // dead-letters them. Nor is DuckDB failing to write or read back a data
    // file (its I/O errors: a full disk, an unwritable scratch directory), nor
    // a conflict: another coordinator committed some of these positions or
    // keys first (this one's lease had expired), and the next claim finds
    // them resolved or as duplicates. Any other failure counts towards
    // max_attempts.
    const auto* error = dynamic_cast<const Error*>(&e);
    const boost::json::value* duckdb_kind =
        error != nullptr ? error->details().if_contains("duckdb_error_type") : nullptr;
    const bool not_the_events_fault =
        error != nullptr &&
        (error->code() == ErrorCode::unavailable || error->code() == ErrorCode::timeout ||
         error->code() == ErrorCode::conflict ||
         (duckdb_kind != nullptr && duckdb_kind->is_string() && duckdb_kind->get_string() == "IO"));
    log::error("commit cycle failed; batch returned for retry",
               {{"error", e.what()},
                {"events", all_positions.size()},
                {"counts_as_attempt", !not_the_events_fault}});
    try {
      if (not_the_events_fault) {
        bus_.release(options_.consumer, all_positions);
      } else {
        bus_.nack(options_.consumer, all_positions, e.what());
      }
    } catch (const std::exception& nack_error) {
      log::error("returning the batch failed; lease expiry will redeliver",
                 {{"error", nack_error.what()}});
    }
    throw;
  }

  auto& m = Metrics::get();
  m.committed.inc(static_cast<double>(result.committed));
  m.duplicates.inc(static_cast<double>(result.duplicates));
  m.dead_lettered.inc(static_cast<double>(result.dead_lettered));
  m.files.inc(static_cast<double>(result.files));
  m.cycle_seconds.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  refresh_watermark();
  return result;
}

void Coordinator::drain() {
  struct Finish {
    Coordinator& self;
    ~Finish() { self.finish_ack(); }
  } finish{*this};
  while (commit_cycle(true).claimed > 0) {
  }
}

void Coordinator::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  // Records left from before a restart count as old: commit them at once.
  if (options_.commit && bus_.last_position() > watermark_.load())
    oldest_unflushed_ = std::chrono::steady_clock::time_point{};
  thread_ = std::thread([this] {
    name_this_thread("dm-commit");
    loop();
  });
}

void Coordinator::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // A batch claimed ahead and never written goes back at once.
  if (next_claim_.valid()) {
    try {
      const auto unused = next_claim_.get();
      if (!unused.empty()) bus_.release(options_.consumer, positions_of(unused));
    } catch (const std::exception& e) {
      log::warn("returning a batch claimed ahead failed; lease expiry will redeliver",
                {{"error", e.what()}});
    }
  }
  // Other coordinators on a shared bus need not wait for this one's lease
  // to end before they take its share of the tables.
  if (options_.commit) {
    try {
      bus_.leave(options_.consumer);
    } catch (const std::exception& e) {
      log::warn("leaving the bus failed; others take over when the lease ends",
                {{"error", e.what()}});
    }
  }
}

void Coordinator::notify_published(std::size_t count) {
  bool full;
  {
    std::lock_guard lock(mutex_);
    unflushed_ += count;
    if (!oldest_unflushed_) oldest_unflushed_ = std::chrono::steady_clock::now();
    full = unflushed_ >= options_.max_batch_events;
  }
  if (full) wake_.notify_all();
}

bool Coordinator::wait_for(bus::Position position, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  if (watermark_.load() >= position) return true;
  flush_requested_ = true;
  ++waiters_;
  wake_.notify_all();
  bool resolved =
      resolved_.wait_until(lock, deadline, [&] { return watermark_.load() >= position; });
  --waiters_;
  return resolved;
}

std::uint64_t Coordinator::lag() const {
  const bus::Position last = bus_.last_position();
  const bus::Position resolved = watermark_.load();
  return last > resolved ? last - resolved : 0;
}

bool Coordinator::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

void Coordinator::loop() {
  using clock = std::chrono::steady_clock;
  auto last_sweep = clock::now();
  std::unique_lock lock(mutex_);
  while (running_) {
    heartbeat_unix_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    auto now = clock::now();
    bool due = options_.commit &&
               (flush_requested_ || unflushed_ >= options_.max_batch_events ||
                (oldest_unflushed_ && now - *oldest_unflushed_ >= options_.max_batch_age));
    if (!due) {
      // Wake at least every max_batch_age: expired leases and records
      // published by other processes become deliverable without a
      // notification. On a shared bus, while a client waits, also every
      // watermark_poll to see what other coordinators resolved.
      const bool follows = options_.watermark_poll.count() > 0;
      auto until = oldest_unflushed_ && options_.commit
                       ? *oldest_unflushed_ + options_.max_batch_age
                       : now + options_.max_batch_age;
      if (follows && waiters_ > 0) until = std::min(until, now + options_.watermark_poll);
      wake_.wait_until(lock, until);
      if (!running_) break;
      const bool sweep = clock::now() - last_sweep >= options_.max_batch_age;
      if (!options_.commit) {
        flush_requested_ = false;
        unflushed_ = 0;
        oldest_unflushed_.reset();
      }
      if (!sweep && !(follows && waiters_ > 0)) continue;
      const bool look_for_work =
          options_.commit && sweep && !oldest_unflushed_ && !flush_requested_;
      if (sweep) last_sweep = clock::now();
      lock.unlock();
      if (follows) refresh_watermark();
      bool pending = false;
      if (look_for_work) {
        try {
          bus_.requeue_expired();
          // Unresolved positions: records to claim, unless another
          // coordinator holds them (then the claim finds nothing, cheaply).
          pending = bus_.last_position() > watermark_.load();
        } catch (const std::exception& e) {
          log::warn("checking the bus for work failed; retrying", {{"error", e.what()}});
        }
      }
      lock.lock();
      if (pending && !oldest_unflushed_) oldest_unflushed_ = clock::time_point{};
      continue;
    }
    flush_requested_ = false;
    unflushed_ = 0;
    oldest_unflushed_.reset();
    lock.unlock();
    try {
      // Commit until nothing is deliverable, so a backlog drains at full
      // speed, each batch's ack overlapping the next batch's work.
      while (commit_cycle(true).claimed >= options_.max_batch_events) {
      }
      finish_ack();
    } catch (const std::exception& e) {
      // commit_cycle logged and nacked; back off one age period.
      finish_ack();
      std::this_thread::sleep_for(options_.max_batch_age);
    }
    lock.lock();
  }
}

}  // namespace duckmesh::commit
