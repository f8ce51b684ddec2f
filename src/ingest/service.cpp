#include "ingest/service.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string_view>

#include "common/error.hpp"
#include "common/heap.hpp"
#include "common/stable_hash.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace duckmesh::ingest {
namespace {

// What a request with an Idempotency-Key header sent: its (inflated) body
// and format. Equal for a retry of the same request; a different batch under
// a reused key differs (but for a 64-bit hash collision). The atomic setting
// is left out: a retry that changes it (a client re-run that now takes the
// valid events of a batch) is answered with what became of those events.
// The hash is stored in the catalog and compared by other nodes: one every
// build computes alike.
std::uint64_t request_fingerprint(std::string_view body, BodyFormat format) {
  return stable_hash64(body, static_cast<std::uint64_t>(format) + 1);
}

// An answer as the catalog keeps it (RequestAnswer::answer_json), and back.
std::string encode_answer(const IngestOutcome& outcome) {
  return boost::json::serialize(
      boost::json::object{{"total", outcome.total},
                          {"accepted", outcome.accepted},
                          {"duplicates", outcome.duplicates},
                          {"rejected", event_errors_json(outcome.rejected)},
                          {"token", outcome.token.encode()}});
}

IngestOutcome decode_answer(const std::string& text) {
  try {
    const auto answer = boost::json::parse(text).as_object();
    IngestOutcome outcome;
    outcome.total = boost::json::value_to<std::size_t>(answer.at("total"));
    outcome.accepted = boost::json::value_to<std::size_t>(answer.at("accepted"));
    outcome.duplicates = boost::json::value_to<std::size_t>(answer.at("duplicates"));
    for (const auto& r : answer.at("rejected").as_array()) {
      const auto& e = r.as_object();
      outcome.rejected.push_back({boost::json::value_to<std::size_t>(e.at("index")),
                                  std::string(e.at("field").as_string()),
                                  std::string(e.at("code").as_string()),
                                  std::string(e.at("message").as_string())});
    }
    outcome.token = VisibilityToken::decode(std::string(answer.at("token").as_string()));
    return outcome;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::internal, std::string("unreadable answer: ") + e.what());
  }
}

// Whether a pending key's position is settled: committed (its key is then
// in the catalog) or dead-lettered (its key free again). 0 is a key held by
// a request still publishing.
bool settled(bus::Position position, bus::Position watermark) {
  return position != 0 && position <= watermark;
}

struct Metrics {
  obs::Family<obs::Counter>& events;
  obs::Family<obs::Counter>& rejections;
  obs::Counter& bytes;
  obs::Gauge& backlog;
  obs::Histogram& visibility_seconds;

  static Metrics& get() {
    auto& r = obs::Registry::global();
    static Metrics m{
        r.counter("duckmesh_ingest_events_total", "Events received, by outcome", {"outcome"}),
        r.counter("duckmesh_ingest_rejections_total", "Events refused by validation, by reason",
                  {"code"}),
        r.counter("duckmesh_ingest_bytes_total", "Request body bytes received for ingest").get(),
        r.gauge("duckmesh_bus_backlog_events",
                "Events published and not yet committed (pending + in flight)")
            .get(),
        r.histogram("duckmesh_ingest_visibility_seconds",
                    "Time a waiting client waited for its events to become visible")
            .get(),
    };
    return m;
  }
};

}  // namespace

IngestService::IngestService(catalog::CatalogRepo& catalog, bus::IngestBus& bus,
                             commit::Coordinator& coordinator, product::ProductService& products,
                             IngestOptions options)
    : catalog_(catalog),
      bus_(bus),
      coordinator_(coordinator),
      products_(products),
      options_(std::move(options)) {}

void IngestService::forget_committed_keys() {
  auto watermark = coordinator_.watermark();
  for (auto it = pending_keys_.begin(); it != pending_keys_.end();) {
    it = settled(it->second, watermark) ? pending_keys_.erase(it) : std::next(it);
  }
}

std::uint64_t IngestService::resident_memory() {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  const std::int64_t read_at = memory_read_at_ns_.load(std::memory_order_relaxed);
  if (read_at != 0 && now - read_at < 100'000'000) {
    return memory_bytes_.load(std::memory_order_relaxed);
  }
  // Unreadable /proc: nothing to hold ingest back with; the backlog limit still applies.
  std::uint64_t bytes = obs::resident_memory_bytes().value_or(0);
  if (options_.max_memory_bytes > 0 && bytes >= options_.max_memory_bytes) {
    // Over the limit: first give the heap's free memory back (see
    // common/heap.hpp), then judge what is really held.
    release_free_heap();
    bytes = obs::resident_memory_bytes().value_or(0);
  }
  memory_bytes_.store(bytes, std::memory_order_relaxed);
  memory_read_at_ns_.store(now, std::memory_order_relaxed);
  return bytes;
}

std::shared_ptr<const IngestService::ParsedTable> IngestService::parsed_table(
    const catalog::TableInfo& table) {
  std::string key = table.schema_json;
  key += '\0';
  key += table.options_json;
  {
    std::lock_guard lock(parsed_mutex_);
    if (auto it = parsed_.find(key); it != parsed_.end()) return it->second;
  }
  auto parsed = std::make_shared<const ParsedTable>(
      ParsedTable{schema::TableSchema::from_json_text(table.schema_json),
                  product::TableOptions::from_json_text(table.options_json)});
  std::lock_guard lock(parsed_mutex_);
  if (parsed_.size() >= kMaxParsed) parsed_.clear();
  parsed_.emplace(std::move(key), parsed);
  return parsed;
}

IngestOutcome IngestService::ingest(const IngestRequest& request) {
  auto& metrics = Metrics::get();
  auto table = products_.require_table(request.product, request.table);
  metrics.bytes.inc(static_cast<double>(request.body.size()));

  // Published but not yet resolved (counting the bus's rows would cost in
  // proportion to the backlog on every request).
  const std::uint64_t backlog = coordinator_.lag();
  metrics.backlog.set(static_cast<double>(backlog));
  if (backlog >= options_.max_bus_backlog) {
    throw Error(
        ErrorCode::unavailable,
        "ingest is saturated: " + std::to_string(backlog) + " events wait to be committed (limit " +
            std::to_string(options_.max_bus_backlog) + "); retry shortly",
        {{"backlog", backlog}, {"limit", options_.max_bus_backlog}, {"retry_after_seconds", 1}});
  }

  if (options_.max_memory_bytes > 0) {
    const std::uint64_t memory = resident_memory();
    if (memory >= options_.max_memory_bytes) {
      throw Error(ErrorCode::unavailable,
                  "ingest is saturated: the service holds " + std::to_string(memory) +
                      " bytes of memory (limit " + std::to_string(options_.max_memory_bytes) +
                      ", setting ingest_max_memory); retry shortly",
                  {{"memory_bytes", memory},
                   {"limit", options_.max_memory_bytes},
                   {"retry_after_seconds", 1}});
    }
  }

  std::string inflated;
  std::string_view body = request.body;
  if (request.gzip) {
    inflated = gunzip(body, options_.max_decompressed_bytes);
    body = inflated;
  }

  const std::uint64_t fingerprint =
      request.batch_key.empty() ? 0 : request_fingerprint(body, request.format);
  if (!request.batch_key.empty()) {
    // This node's memory first, then the catalog (an answer another node
    // gave, or this one before a restart).
    std::optional<RememberedResponse> remembered;
    {
      std::lock_guard lock(mutex_);
      auto it = responses_.find({request.product, request.table, request.batch_key});
      if (it != responses_.end()) remembered = it->second;
    }
    if (!remembered) {
      if (auto stored = catalog_.find_request(request.product, request.table, request.batch_key)) {
        try {
          remembered = RememberedResponse{decode_answer(stored->answer_json), stored->fingerprint};
          remember_response(request, *remembered);
        } catch (const Error& e) {
          // Not an answer this build reads: the request is taken as new, and
          // its per-event keys still keep it from publishing anything twice.
          log::error(
              "a stored Idempotency-Key answer does not read back; the request is "
              "processed again",
              {{"product", request.product}, {"table", request.table}, {"error", e.what()}});
        }
      }
    }
    if (remembered) {
      if (remembered->fingerprint != fingerprint) {
        // Answering with the first request's outcome would tell the client
        // that events it never had accepted were.
        throw Error(ErrorCode::unprocessable,
                    "header 'Idempotency-Key' value '" + request.batch_key +
                        "' was already used for a different batch of this table (another "
                        "body or format); send a new batch with a new key",
                    {{"field", "Idempotency-Key"}, {"reason", "reused_for_another_request"}});
      }
      IngestOutcome replay = std::move(remembered->outcome);
      replay.replayed = true;
      return replay;
    }
  }

  const auto parsed = parsed_table(table);
  const schema::TableSchema& table_schema = parsed->schema;
  const product::TableOptions& table_options = parsed->options;
  ValidatorOptions vopts;
  vopts.unknown_fields =
      table_options.unknown_fields == "ignore" ? UnknownFields::ignore : UnknownFields::reject;
  vopts.idempotency_column = table_options.idempotency_column;
  vopts.keyed = table.kind == catalog::TableKind::keyed;
  vopts.primary_key = table.primary_key;
  vopts.max_events = options_.max_events_per_request;
  auto validation = validate_events(body, request.format, table_schema, vopts);

  IngestOutcome outcome;
  outcome.total = validation.total;
  outcome.rejected = std::move(validation.rejected);
  for (const auto& r : outcome.rejected) metrics.rejections.with({r.code}).inc();
  metrics.events.with({"rejected"}).inc(static_cast<double>(outcome.rejected.size()));

  auto reject_all = [&](const std::string& why) {
    throw Error(ErrorCode::unprocessable, why,
                {{"accepted", 0},
                 {"total", outcome.total},
                 {"rejected", event_errors_json(outcome.rejected)}});
  };
  if (!outcome.rejected.empty() && request.atomic) {
    reject_all(
        std::to_string(outcome.rejected.size()) + " of " + std::to_string(outcome.total) +
        " events are invalid; nothing was accepted (atomic batch; send atomic=false to accept "
        "the valid ones)");
  }
  if (validation.valid.empty() && !outcome.rejected.empty()) {
    reject_all("all " + std::to_string(outcome.total) +
               " events are invalid; nothing was accepted");
  }

  // Keys for every valid event.
  for (auto& e : validation.valid) {
    if (e.idempotency_key.empty() && !request.batch_key.empty()) {
      e.idempotency_key = request.batch_key + ":" + std::to_string(e.index);
    }
  }
  std::vector<std::string> keys;
  for (const auto& e : validation.valid) {
    if (!e.idempotency_key.empty()) keys.push_back(e.idempotency_key);
  }
  // The bus's unsettled records first (other nodes' publishes), the
  // catalog next: a key published anywhere before this request is in one of
  // them (see IngestBus::unsettled_keys). Every position up to `resolved`,
  // read before both, is settled: committed (its key is in the catalog's
  // answer) or dead-lettered (its key is free again, as on any other node).
  const bus::Position resolved = coordinator_.watermark();
  const auto unsettled = keys.empty() ? std::map<std::string, bus::Position>{}
                                      : bus_.unsettled_keys(request.product, request.table, keys);
  auto committed = keys.empty() ? std::map<std::string, catalog::IdempotencyHit>{}
                                : catalog_.find_idempotency(request.product, request.table, keys);

  bus::Position token_position = 0;
  std::vector<bus::Record> records;
  std::vector<std::string> record_keys;
  records.reserve(validation.valid.size());
  record_keys.reserve(validation.valid.size());
  {
    std::lock_guard lock(mutex_);
    if (pending_keys_.size() > 100'000) forget_committed_keys();
    std::set<std::string> in_request;
    for (auto& e : validation.valid) {
      if (!e.idempotency_key.empty()) {
        if (auto hit = committed.find(e.idempotency_key); hit != committed.end()) {
          ++outcome.duplicates;
          token_position = std::max(token_position, hit->second.position);
          continue;
        }
        KeyId id{request.product, request.table, e.idempotency_key};
        if (auto pending = pending_keys_.find(id); pending != pending_keys_.end()) {
          if (!settled(pending->second, resolved)) {
            ++outcome.duplicates;
            token_position = std::max(token_position, pending->second);
            continue;
          }
          // Settled and not in the catalog: its event was dead-lettered.
          pending_keys_.erase(pending);
        }
        if (auto other = unsettled.find(e.idempotency_key); other != unsettled.end()) {
          ++outcome.duplicates;
          token_position = std::max(token_position, other->second);
          continue;
        }
        if (!in_request.insert(e.idempotency_key).second) {
          ++outcome.duplicates;
          continue;
        }
        // Reserve the key now so a concurrent retry sees it as a duplicate.
        pending_keys_[id] = 0;
      }
      bus::Record r;
      r.product = request.product;
      r.table = request.table;
      r.idempotency_key = e.idempotency_key;
      r.payload = std::move(e.payload);
      record_keys.push_back(r.idempotency_key);
      records.push_back(std::move(r));
    }
  }

  if (!records.empty()) {
    std::vector<bus::Position> positions;
    bool reserved = false;
    try {
      if (options_.quotas) {
        options_.quotas->reserve(request.product, records.size());
        reserved = true;
      }
      positions = bus_.publish(std::move(records));
    } catch (...) {
      if (reserved) options_.quotas->release(request.product, record_keys.size());
      std::lock_guard lock(mutex_);
      for (const auto& k : record_keys) {
        if (!k.empty()) pending_keys_.erase({request.product, request.table, k});
      }
      throw;
    }
    if (reserved) options_.quotas->published(request.product, positions.size(), positions.back());
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < positions.size(); ++i) {
        if (!record_keys[i].empty()) {
          pending_keys_[{request.product, request.table, record_keys[i]}] = positions[i];
        }
      }
    }
    outcome.accepted = positions.size();
    token_position = std::max(token_position, positions.back());
    coordinator_.notify_published(positions.size());
  }
  if (token_position == 0) token_position = coordinator_.watermark();  // nothing new to wait for
  outcome.token = {request.product, token_position};
  metrics.events.with({"accepted"}).inc(static_cast<double>(outcome.accepted));
  metrics.events.with({"duplicate"}).inc(static_cast<double>(outcome.duplicates));

  if (!request.batch_key.empty()) {
    remember_response(request, RememberedResponse{outcome, fingerprint});
    store_answer(
        {request.product, request.table, request.batch_key, {fingerprint, encode_answer(outcome)}});
  }
  return outcome;
}

void IngestService::store_answer(catalog::RequestRecord record) {
  // Group commit: the first request to find no write running writes what
  // every request queued meanwhile, in one catalog transaction; the others
  // wait for the write that holds theirs.
  std::unique_lock lock(answers_mutex_);
  answers_queue_.push_back(std::move(record));
  const std::uint64_t mine = ++answers_queued_;
  while (answers_written_ < mine) {
    if (answers_writing_) {
      answers_done_.wait(lock);
      continue;
    }
    answers_writing_ = true;
    std::vector<catalog::RequestRecord> batch;
    batch.swap(answers_queue_);
    const std::uint64_t upto = answers_queued_;
    lock.unlock();
    // The events are published whatever happens here. If the catalog
    // cannot take the answers now, a retry on another node or after a
    // restart is answered from the per-event keys instead, which still keep
    // it from publishing anything twice.
    try {
      catalog_.remember_requests(batch);
    } catch (const std::exception& e) {
      log::warn("answers to Idempotency-Key requests were not stored in the catalog",
                {{"requests", batch.size()}, {"error", e.what()}});
    }
    lock.lock();
    answers_writing_ = false;
    answers_written_ = upto;
    answers_done_.notify_all();
  }
}

void IngestService::remember_response(const IngestRequest& request,
                                      const RememberedResponse& response) {
  std::lock_guard lock(mutex_);
  KeyId id{request.product, request.table, request.batch_key};
  if (responses_.emplace(id, response).second) response_order_.push_back(id);
  while (responses_.size() > options_.remembered_responses) {
    responses_.erase(response_order_.front());
    response_order_.pop_front();
  }
}

bool IngestService::wait_visible(const VisibilityToken& token, std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  bool visible = coordinator_.wait_for(token.position, timeout);
  if (visible) {
    Metrics::get().visibility_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return visible;
}

QuotaUsage IngestService::quota_usage(const std::string& product) {
  products_.require_product(product);
  if (options_.quotas) return options_.quotas->usage(product);
  Quotas unlimited(catalog_, {});
  return unlimited.usage(product);
}

Visibility IngestService::visibility(const VisibilityToken& token) const {
  products_.require_product(token.product);
  Visibility v;
  v.watermark = catalog_.watermark();
  v.visible = v.watermark >= token.position;
  if (v.visible) {
    auto latest = catalog_.latest_snapshot(token.product);
    if (latest) v.snapshot_id = latest->id;
  }
  return v;
}

}  // namespace duckmesh::ingest
