// Fuzzes the commit coordinator's payload reader, which turns the payloads
// held in the log into DuckDB rows. The input is used twice:
//   1. as a payload straight from the log (bytes ingest never checked): the
//      reader either reads it or refuses it with invalid_input, nothing else;
//   2. as an NDJSON request body for ingest's validator over the same
//      schema: every event it accepts must then be read without error, since
//      a value that passes validation must never fail the commit.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "commit/payload_reader.hpp"
#include "common/error.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "duck/row_source.hpp"
#include "ingest/validation.hpp"
#include "schema/table_schema.hpp"

namespace {

using duckmesh::Error;
using duckmesh::ErrorCode;

const duckmesh::schema::TableSchema& schema() {
  static const auto s = duckmesh::schema::TableSchema::from_json(boost::json::parse(R"J([
    {"name":"id","type":"bigint","nullable":false},
    {"name":"n","type":"integer"},
    {"name":"ok","type":"boolean"},
    {"name":"x","type":"double"},
    {"name":"price","type":"decimal(10,2)"},
    {"name":"big","type":"decimal(38,8)"},
    {"name":"small","type":"decimal(3,1)"},
    {"name":"s","type":"varchar"},
    {"name":"d","type":"date"},
    {"name":"t","type":"timestamp"},
    {"name":"tz","type":"timestamptz"},
    {"name":"u","type":"uuid"}
  ])J"));
  return s;
}

struct Reader {
  duckmesh::duck::Database db{""};
  duckmesh::duck::Connection conn{db};
  duckmesh::duck::RowSource rows{conn, "batch"};
  duckmesh::commit::PayloadReader reader{schema(), true};

  // Reads one payload as one row; false when the reader refused it.
  bool read(const duckmesh::bus::Payload& payload) {
    duckmesh::bus::Record record;
    record.position = 1;
    record.payload = payload;
    bool given = false;
    duckmesh::duck::RowSource::Producer produce = [&](duckmesh::duck::ChunkWriter& out,
                                                      std::size_t) -> idx_t {
      if (given) return 0;
      given = true;
      reader.read(record, out, 0);
      return 1;
    };
    try {
      rows.query("SELECT count(*) FROM batch()", reader.columns(), produce);
      return true;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::invalid_input) {
        std::fprintf(stderr, "unexpected error: %s\n", e.what());
        std::abort();
      }
      return false;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Reader reader;
  std::string input(reinterpret_cast<const char*>(data), size);
  reader.read(input);

  duckmesh::ingest::ValidatorOptions options;
  options.keyed = true;
  options.primary_key = {"id"};
  duckmesh::ingest::ValidationResult result;
  try {
    result = duckmesh::ingest::validate_events(input, duckmesh::ingest::BodyFormat::ndjson,
                                               schema(), options);
  } catch (const Error&) {
    return 0;  // a body refused whole
  }
  for (const auto& event : result.valid) {
    if (!reader.read(event.payload)) {
      std::fprintf(stderr, "an accepted event failed to read: %s\n", event.payload.str().c_str());
      std::abort();
    }
  }
  return 0;
}
