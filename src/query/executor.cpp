#include "query/executor.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "common/error.hpp"
#include "duck/prepared_statement.hpp"
#include "duck/result.hpp"
#include "duck/sql_literal.hpp"
#include "query/statement_check.hpp"

namespace duckmesh::query {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// Interrupts the sandbox's running statement from the deadline on, again
// every few milliseconds until stopped: DuckDB drops an interrupt that
// arrives before a statement starts, and a query runs several statements
// (preparing, probing, copying) one after the other.
class Watchdog {
 public:
  Watchdog(Sandbox& sandbox, Clock::time_point deadline)
      : thread_([this, &sandbox, deadline] { run(sandbox, deadline); }) {}
  ~Watchdog() { stop(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Returns once the thread has ended; no interrupt follows.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  bool fired() const { return fired_.load(); }

 private:
  void run(Sandbox& sandbox, Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, deadline, [this] { return done_; })) return;
    fired_.store(true);
    while (!done_) {
      sandbox.interrupt();
      wake_.wait_for(lock, std::chrono::milliseconds(5), [this] { return done_; });
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;  // last: the thread uses the members above
};

// ---- Parameters ----

bool is_positional(const std::string& name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

[[noreturn]] void parameter_error(const std::string& label, const std::string& message) {
  throw Error(ErrorCode::invalid_input, message, {{"parameter", label}});
}

void bind_json(duck::PreparedStatement& statement, idx_t index, const json::value& value,
               const std::string& label) {
  switch (value.kind()) {
    case json::kind::null: statement.bind(index, nullptr); return;
    case json::kind::bool_: statement.bind(index, value.get_bool()); return;
    case json::kind::int64: statement.bind(index, value.get_int64()); return;
    case json::kind::uint64: statement.bind(index, value.get_uint64()); return;
    case json::kind::double_: statement.bind(index, value.get_double()); return;
    case json::kind::string: statement.bind(index, std::string_view(value.get_string())); return;
    case json::kind::array:
    case json::kind::object:
      parameter_error(label, "parameter " + label +
                                 ": arrays and objects cannot be bound; pass a string, number, "
                                 "boolean or null (e.g. a JSON text to cast in SQL)");
  }
}

// Binds `params` (see QueryOptions::params) to every parameter of
// `statement`; a parameter without a value, a value without a parameter,
// or the wrong kind of container is Error(invalid_input) naming it.
void bind_parameters(duck::PreparedStatement& statement, const json::value& params) {
  const idx_t count = statement.parameter_count();
  std::vector<std::string> names;
  names.reserve(count);
  for (idx_t i = 1; i <= count; ++i) names.push_back(statement.parameter_name(i));

  if (params.is_null()) {
    if (count > 0) {
      parameter_error("$" + names[0],
                      "the query takes parameter $" + names[0] + " but no params were given");
    }
    return;
  }
  if (params.is_array()) {
    const json::array& values = params.get_array();
    std::size_t highest = 0;
    for (idx_t i = 1; i <= count; ++i) {
      const std::string& name = names[i - 1];
      const std::string label = "$" + name;
      if (!is_positional(name)) {
        parameter_error(label,
                        "the query uses named parameter " + label + "; pass params as an object");
      }
      const std::size_t number = std::stoul(name);
      highest = std::max(highest, number);
      if (number > values.size()) {
        parameter_error(label, "parameter " + label + " has no value: params holds " +
                                   std::to_string(values.size()) + " values");
      }
      bind_json(statement, i, values[number - 1], label);
    }
    if (values.size() > highest) {
      parameter_error("$" + std::to_string(highest + 1),
                      "params holds " + std::to_string(values.size()) +
                          " values but the query takes " + std::to_string(highest) + "; $" +
                          std::to_string(highest + 1) + " is not in the query");
    }
    return;
  }
  if (params.is_object()) {
    const json::object& values = params.get_object();
    for (idx_t i = 1; i <= count; ++i) {
      const std::string& name = names[i - 1];
      const std::string label = "$" + name;
      if (is_positional(name)) {
        parameter_error(
            label, "the query uses positional parameter " + label + "; pass params as an array");
      }
      const json::value* value = values.if_contains(name);
      if (value == nullptr) parameter_error(label, "parameter " + label + " has no value");
      bind_json(statement, i, *value, label);
    }
    for (const auto& member : values) {
      const std::string key(member.key());
      if (std::find(names.begin(), names.end(), key) == names.end()) {
        parameter_error("$" + key, "unknown parameter $" + key + ": the query does not use it");
      }
    }
    return;
  }
  throw Error(ErrorCode::invalid_input,
              "params must be an array (for $1, $2, ...) or an object (for $name)");
}

// ---- Envelope ----

// The caller's envelope members as JSON text without braces.
std::string extra_fields(const QueryOptions& options) {
  if (options.format != Format::json || !options.add_fields) return {};
  json::object fields;
  options.add_fields(fields);
  static constexpr std::array<std::string_view, 5> kEnvelope = {"columns", "rows", "row_count",
                                                                "truncated", "elapsed_ms"};
  for (const auto& member : fields) {
    if (std::find(kEnvelope.begin(), kEnvelope.end(), member.key()) != kEnvelope.end()) {
      throw Error(ErrorCode::internal, "add_fields may not replace the envelope member '" +
                                           std::string(member.key()) + "'");
    }
  }
  if (fields.empty()) return {};
  std::string text = json::serialize(fields);
  return text.substr(1, text.size() - 2);
}

std::vector<ColumnInfo> columns_of(const duck::Result& result) {
  std::vector<ColumnInfo> columns;
  columns.reserve(result.column_count());
  for (idx_t c = 0; c < result.column_count(); ++c) {
    columns.push_back({result.column_name(c), result.column_type_name(c)});
  }
  return columns;
}

[[noreturn]] void too_many_rows(std::size_t max_rows) {
  throw Error(ErrorCode::invalid_input,
              "the result exceeds max_rows (" + std::to_string(max_rows) +
                  "); narrow the query, add a LIMIT, or raise max_rows",
              {{"max_rows", max_rows}});
}

// ---- Row formats ----

QueryOutcome run_rows(Sandbox& sandbox, std::string_view sql, const QueryOptions& options,
                      const std::string& extra, ResultSink& sink, Clock::time_point started) {
  CheckedStatement statement = prepare_read_only(sandbox.connection(), sql);
  bind_parameters(statement.prepared, options.params);
  duck::Result result = statement.prepared.execute_streaming();

  QueryOutcome outcome;
  outcome.columns = columns_of(result);
  OutputBuffer out(sink);
  out.hold(options.error_on_truncate);
  std::unique_ptr<RowEncoder> encoder = make_row_encoder(options.format, out);
  encoder->begin(outcome.columns);
  // Reading one chunk past max_rows is the probe that tells a result of
  // exactly max_rows rows from a longer one.
  while (std::optional<duck::DataChunk> chunk = result.next_chunk()) {
    const std::size_t take =
        std::min<std::size_t>(chunk->size(), options.max_rows - outcome.row_count);
    if (take > 0) encoder->rows(*chunk, take);
    outcome.row_count += take;
    if (take < chunk->size()) {
      outcome.truncated = true;
      break;
    }
  }
  if (outcome.truncated && options.error_on_truncate) too_many_rows(options.max_rows);
  outcome.elapsed_ms = elapsed_ms(started);
  encoder->end(outcome.row_count, outcome.truncated, outcome.elapsed_ms, extra);
  out.hold(false);
  out.flush();
  return outcome;
}

// ---- Parquet ----

// A file in the sandbox's private directory, removed when this goes.
class ScratchFile {
 public:
  explicit ScratchFile(const Sandbox& sandbox) {
    static std::atomic<std::uint64_t> counter{0};
    path_ = sandbox.private_dir() / ("result-" + std::to_string(++counter) + ".parquet");
  }
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::uint64_t copy_count(duck::Result result) {
  std::optional<duck::Value> count = result.scalar();
  if (count) {
    if (const auto* n = std::get_if<std::int64_t>(&*count)) return static_cast<std::uint64_t>(*n);
    if (const auto* n = std::get_if<std::uint64_t>(&*count)) return *n;
  }
  throw Error(ErrorCode::internal, "DuckDB's COPY did not report how many rows it wrote");
}

void stream_file(const std::filesystem::path& path, ResultSink& sink) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::internal, "cannot read the result file " + path.string());
  std::string block(OutputBuffer::kDefaultFlushBytes, '\0');
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) sink.write(std::string_view(block.data(), static_cast<std::size_t>(got)));
  }
  if (in.bad()) throw Error(ErrorCode::internal, "cannot read the result file " + path.string());
}

QueryOutcome run_parquet(Sandbox& sandbox, std::string_view sql, const QueryOptions& options,
                         ResultSink& sink, Clock::time_point started) {
  duck::Connection& conn = sandbox.connection();
  CheckedStatement statement = prepare_read_only(conn, sql);
  if (statement.type != DUCKDB_STATEMENT_TYPE_SELECT) {
    throw Error(ErrorCode::invalid_input,
                "EXPLAIN output is available as json, ndjson, csv or arrow, not parquet");
  }
  bind_parameters(statement.prepared, options.params);

  // The checked statement becomes a subquery; its parameters keep their
  // numbers and names, and the file name is the service's own.
  const std::string query = "SELECT * FROM (\n" + statement.body + "\n)";
  auto prepare_wrapped = [&](const std::string& wrapped) {
    try {
      duck::PreparedStatement prepared = conn.prepare(wrapped);
      bind_parameters(prepared, options.params);
      return prepared;
    } catch (const Error& e) {
      throw Error(e.code(),
                  std::string(e.message()) +
                      " (parquet output runs the query as a subquery; statements such as "
                      "PRAGMA cannot be one: use json, ndjson or csv)",
                  e.details());
    }
  };

  QueryOutcome outcome;
  outcome.columns = columns_of(prepare_wrapped(query + " LIMIT 0").execute());

  // LIMIT max_rows + 1 tells a longer result from one of exactly max_rows.
  const bool limited =
      options.max_rows < static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  const std::string limit = limited ? " LIMIT " + std::to_string(options.max_rows + 1) : "";
  ScratchFile file(sandbox);
  duck::PreparedStatement copy =
      prepare_wrapped("COPY (" + query + limit + ") TO " +
                      duck::quote_literal(file.path().string()) + " (FORMAT parquet)");
  if (copy.statement_type() != DUCKDB_STATEMENT_TYPE_COPY ||
      copy.parameter_count() != statement.prepared.parameter_count()) {
    throw Error(ErrorCode::internal, "the parquet export of the query did not prepare as one COPY");
  }
  const std::uint64_t written = copy_count(copy.execute());
  const ScratchFile* result_file = &file;
  ScratchFile trimmed(sandbox);
  if (limited && written > options.max_rows) {
    if (options.error_on_truncate) too_many_rows(options.max_rows);
    // Cut the probe row from the file written, without running the query
    // again; reading back the same Parquet keeps types and order.
    conn.execute("COPY (SELECT * FROM read_parquet(" + duck::quote_literal(file.path().string()) +
                 ") LIMIT " + std::to_string(options.max_rows) + ") TO " +
                 duck::quote_literal(trimmed.path().string()) + " (FORMAT parquet)");
    result_file = &trimmed;
    outcome.truncated = true;
    outcome.row_count = options.max_rows;
  } else {
    outcome.row_count = static_cast<std::size_t>(written);
  }
  stream_file(result_file->path(), sink);
  outcome.elapsed_ms = elapsed_ms(started);
  return outcome;
}

}  // namespace

QueryOutcome run_query(Sandbox& sandbox, std::string_view sql, const QueryOptions& options,
                       ResultSink& sink) {
  const Clock::time_point started = Clock::now();
  if (options.timeout.count() <= 0) {
    throw Error(ErrorCode::invalid_input, "the query timeout must be positive",
                {{"timeout_ms", options.timeout.count()}});
  }
  const std::string extra = extra_fields(options);
  Watchdog watchdog(sandbox, started + options.timeout);
  try {
    QueryOutcome outcome = options.format == Format::parquet
                               ? run_parquet(sandbox, sql, options, sink, started)
                               : run_rows(sandbox, sql, options, extra, sink, started);
    watchdog.stop();
    return outcome;
  } catch (const Error& e) {
    watchdog.stop();
    if (!watchdog.fired()) {
      // An interruption nobody here asked for: DuckDB stopped the query
      // itself (one of its parallel tasks failed and the stream met another
      // task's interruption first). Not a timeout, and the cause is lost.
      if (e.code() == ErrorCode::timeout) {
        throw Error(ErrorCode::unprocessable,
                    "the query failed inside the engine, which reported only that it "
                    "interrupted its parallel work (" +
                        std::string(e.message()) + "); run it again to see the cause",
                    {{"reason", "interrupted_by_engine"}});
      }
      throw;
    }
    throw Error(ErrorCode::timeout,
                "the query ran longer than its time limit of " +
                    std::to_string(options.timeout.count()) +
                    " ms and was stopped; narrow it or raise the timeout",
                {{"timeout_ms", options.timeout.count()}});
  }
}

}  // namespace duckmesh::query
