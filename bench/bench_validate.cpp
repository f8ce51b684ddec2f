// Ingest validation throughput: events per second through validate_events()
// for 1000-event batches of ~200-byte events with 7 typed columns, the shape
// of a typical ingest request.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <string>

#include "ingest/validation.hpp"

namespace {

using duckmesh::ingest::BodyFormat;
using duckmesh::ingest::ValidatorOptions;

constexpr int kBatch = 1000;

duckmesh::schema::TableSchema make_schema(bool with_pattern) {
  std::string name_rule =
      with_pattern ? R"(,"constraints":{"pattern":"[a-z ]+[0-9]+[a-z ]+"})" : "";
  return duckmesh::schema::TableSchema::from_json(boost::json::parse(R"J([
      {"name":"id","type":"bigint","nullable":false},
      {"name":"at","type":"timestamptz","nullable":false},
      {"name":"user_id","type":"uuid"},
      {"name":"amount","type":"decimal(12,2)"},
      {"name":"currency","type":"char(3)","constraints":{"enum":["EUR","USD","GBP","CHF"]}},
      {"name":"name","type":"varchar(60)")J" + name_rule + R"J(},
      {"name":"score","type":"double","constraints":{"minimum":0,"maximum":1}}])J"));
}

// One event of about 200 bytes; `i` varies the values.
std::string event(int i) {
  static const char* currencies[] = {"EUR", "USD", "GBP", "CHF"};
  return "{\"id\":" + std::to_string(1000000 + i) +
         ",\"at\":\"2026-11-25T10:" + std::to_string(10 + i % 50) +
         ":00.123+02:00\",\"user_id\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd38" +
         std::to_string(1000 + i % 9000) + "\",\"amount\":" + std::to_string(i % 100000) + "." +
         std::to_string(10 + i % 90) + ",\"currency\":\"" + currencies[i % 4] +
         "\",\"name\":\"customer number " + std::to_string(i) +
         " from the web shop\",\"score\":0." + std::to_string(100000 + i) + "}";
}

std::string body(BodyFormat format) {
  std::string out = format == BodyFormat::json ? "[" : "";
  for (int i = 0; i < kBatch; ++i) {
    if (format == BodyFormat::json && i) out += ',';
    out += event(i);
    if (format == BodyFormat::ndjson) out += '\n';
  }
  if (format == BodyFormat::json) out += ']';
  return out;
}

void run(benchmark::State& state, BodyFormat format, bool with_pattern) {
  auto schema = make_schema(with_pattern);
  auto text = body(format);
  ValidatorOptions options;
  options.idempotency_column = "user_id";
  for (auto _ : state) {
    auto result = duckmesh::ingest::validate_events(text, format, schema, options);
    if (result.valid.size() != kBatch) {
      state.SkipWithError(result.rejected.empty() ? "events lost"
                                                  : result.rejected[0].message.c_str());
      return;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["event_bytes"] = static_cast<double>(text.size()) / kBatch;
}

void BM_ValidateNdjson(benchmark::State& state) {
  run(state, BodyFormat::ndjson, false);
}
void BM_ValidateJsonArray(benchmark::State& state) {
  run(state, BodyFormat::json, false);
}
void BM_ValidateNdjsonWithPattern(benchmark::State& state) {
  run(state, BodyFormat::ndjson, true);
}

BENCHMARK(BM_ValidateNdjson)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ValidateJsonArray)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ValidateNdjsonWithPattern)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
