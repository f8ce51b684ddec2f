// Fuzzes the ingest validator, the gate every event passes before it is
// acknowledged: one schema with every column type and every constraint, the
// input's first byte choosing the body format, the unknown-field policy, a
// keyed table or not, and whether the body is gzip-compressed first.
//
// Properties checked beyond "no crash": every event of the body is counted
// exactly once (accepted or rejected), indexes are in range and increasing,
// every rejection names a code and a message, and an accepted payload (JSON
// for this schema's json and list columns, binary for scalar-only tables)
// shows as valid JSON (what the log holds, then DuckDB reads); and the event
// tape's two readings agree on the body read as one event.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "ingest/validation.hpp"
#include "ingest/validation_tape.hpp"
#include "schema/binary_payload.hpp"
#include "schema/table_schema.hpp"

namespace {

using duckmesh::Error;
namespace ingest = duckmesh::ingest;

const duckmesh::schema::TableSchema& schema() {
  static const auto s = duckmesh::schema::TableSchema::from_json(boost::json::parse(R"J([
    {"name":"id","type":"bigint","nullable":false},
    {"name":"n","type":"integer","minimum":-5,"maximum":1000,"default":1},
    {"name":"ok","type":"boolean"},
    {"name":"x","type":"double"},
    {"name":"price","type":"decimal(10,2)"},
    {"name":"status","type":"varchar","enum":["new","paid","void"],"default":"new"},
    {"name":"code","type":"varchar","pattern":"[A-Z]{2}-[0-9]+","max_length":12},
    {"name":"d","type":"date"},
    {"name":"t","type":"timestamp"},
    {"name":"tz","type":"timestamptz"},
    {"name":"u","type":"uuid"},
    {"name":"doc","type":"json"},
    {"name":"tags","type":"varchar[]","max_length":8},
    {"name":"scores","type":"double[]","minimum":0}
  ])J"));
  return s;
}

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

// The event tape's fast reading against its exhaustive one, on the body
// taken as one event: the same verdict, and the same nodes and texts.
void check_tape_readings(std::string_view text) {
  static ingest::EventTape fast, exhaustive;
  ingest::TapeFailure f1, f2;
  const bool a = fast.parse(text, f1);
  const bool b = exhaustive.parse_exhaustively(text, f2);
  if (a != b) finding("the tape's fast and exhaustive readings disagree");
  if (!a) return;
  if (fast.size() != exhaustive.size()) finding("the tape's readings differ in nodes");
  for (std::uint32_t i = 0; i < fast.size(); ++i) {
    const auto& x = fast[i];
    const auto& y = exhaustive[i];
    if (x.kind != y.kind || x.end != y.end) finding("the tape's readings differ in a node");
    const bool text_node = x.kind == ingest::NodeKind::key || x.kind == ingest::NodeKind::string ||
                           x.kind == ingest::NodeKind::number;
    if (text_node ? fast.text(x) != exhaustive.text(y) : x.size != y.size) {
      finding("the tape's readings differ in a node's content");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  ingest::ValidatorOptions options;
  options.unknown_fields =
      (mode & 1) ? ingest::UnknownFields::ignore : ingest::UnknownFields::reject;
  options.keyed = (mode & 2) != 0;
  if (options.keyed) options.primary_key = {"id"};
  if (mode & 4) options.idempotency_column = "code";
  options.max_events = 1000;
  const auto format = (mode & 8) ? ingest::BodyFormat::ndjson : ingest::BodyFormat::json;

  std::string inflated;
  try {
    if (mode & 16) {
      inflated = ingest::gunzip(body, 1 << 20);
      body = inflated;
    }
    check_tape_readings(body);
    auto result = ingest::validate_events(body, format, schema(), options);
    if (result.valid.size() + result.rejected.size() != result.total) {
      finding("accepted + rejected != total");
    }
    std::size_t last = 0;
    bool first = true;
    for (const auto& event : result.valid) {
      if (event.index >= result.total) finding("accepted index out of range");
      if (!first && event.index <= last) finding("accepted indexes not increasing");
      first = false;
      last = event.index;
      boost::system::error_code ec;
      (void)boost::json::parse(duckmesh::schema::payload_json(event.payload), ec);
      if (ec) finding("accepted payload is not valid JSON");
    }
    for (const auto& rejected : result.rejected) {
      if (rejected.index >= result.total) finding("rejected index out of range");
      if (rejected.code.empty() || rejected.message.empty()) finding("rejection without reason");
    }
  } catch (const Error&) {
    // A body whose outer shape cannot be read is refused whole.
  }
  return 0;
}
