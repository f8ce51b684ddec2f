// Ingest validation: turns a request body of events into canonical payloads
// for the bus, or precise per-event errors.
//
// validate_events() checks every event of a body against a table's schema
// and rewrites each accepted event into its payload for the bus, so that
// what was accepted here is exactly what DuckDB later reads: a value that
// passes validation never fails the commit. A table whose columns are all
// scalar gets binary payloads (schema/binary_payload.hpp: the values as
// DuckDB stores them, copied into its vectors at commit); a table with a
// json or list column gets the canonical JSON object below, which the
// commit coordinator stages for DuckDB's read_json. A binary payload shown
// as JSON (schema::payload_json) is exactly the canonical JSON below.
//
// One bad event never sinks the others: it becomes one EventError (the
// first problem found in it) and the remaining events are still validated.
// Only a body whose outer shape cannot be read at all, or that holds too
// many events, is refused whole (by throwing duckmesh::Error).
//
// Canonical payload: a JSON object holding only schema columns, in schema
// order (plus "_dm_op":"delete" for a delete on a keyed table). Absent
// nullable columns without a default are left out (DuckDB reads NULL).
//   boolean           true / false
//   integer, bigint   JSON integer, no fraction or exponent ("-42")
//   double            shortest round-trip JSON number ("0.1", "1e+300")
//   decimal(p,s)      JSON string with exactly s fraction digits ("12.50");
//                     DuckDB reads such a string into DECIMAL exactly, where
//                     a JSON number would pass through a double
//   varchar, char(n)  JSON string
//   date              "YYYY-MM-DD"
//   timestamp(tz)     "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00", converted to UTC
//   uuid              lower-case "8-4-4-4-12" hex
//   json              the JSON value itself, minified (read_json stores a
//                     JSON column's raw value; a JSON string would be kept
//                     as a string value, not the document inside it)
//   T[]               JSON array of canonical T values, nulls kept
//
// Thread-safety: validate_events() and gunzip() are pure functions of their
// arguments and may run concurrently.
#pragma once

#include <boost/json/array.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bus/payload.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::ingest {

// What to do with an event field that names no schema column.
enum class UnknownFields { reject, ignore };

// json: a JSON array of event objects, or {"events": [...]}.
// ndjson: one event object per line; blank lines are skipped.
enum class BodyFormat { json, ndjson };

struct ValidatorOptions {
  UnknownFields unknown_fields = UnknownFields::reject;
  // A schema column whose value (as text) is the event's idempotency key
  // when the event carries no "_idempotency_key"; empty: none.
  std::string idempotency_column;
  // Keyed table: events may carry "_op": "upsert" (the default) or "delete".
  bool keyed = false;
  // Keyed tables: the columns every event must carry, non-null.
  std::vector<std::string> primary_key;
  // A body with more events than this is refused whole (payload_too_large).
  std::size_t max_events = 100000;
};

// Why the event at `index` was refused. `field` is the column (or event
// field such as "_op") at fault, "" when the event as a whole is. `code` is
// one of: invalid_json, invalid_utf8, duplicate_key, too_deep,
// not_an_object, unknown_field, required, null, type, out_of_range,
// precision, enum, pattern, max_length, length, invalid_timestamp,
// invalid_date, invalid_uuid, invalid_op, invalid_idempotency_key.
// `message` says what was wrong and what is allowed.
struct EventError {
  std::size_t index;
  std::string field;
  std::string code;
  std::string message;
};

// The errors as API answers list them:
// [{"index", "field", "code", "message"}, ...].
boost::json::array event_errors_json(const std::vector<EventError>& errors);

// An accepted event: its position in the body (0-based, blank NDJSON lines
// not counted), its payload (binary or canonical JSON, see above), and its
// idempotency key ("" = none).
struct ValidEvent {
  std::size_t index;
  // A slice of one block holding the payloads of all of the body's
  // accepted events (see bus::Payload).
  bus::Payload payload;
  std::string idempotency_key;
};

// total = valid.size() + rejected.size(); both lists are in body order.
struct ValidationResult {
  std::size_t total = 0;
  std::vector<ValidEvent> valid;
  std::vector<EventError> rejected;
};

// Validates every event of `body` against `schema`.
//
// Per-event rules (each refusal is one EventError with the codes above):
//  * the event is a JSON object of valid UTF-8 without duplicate keys,
//    nested at most 33 levels deep (a json column's value: 32);
//  * every field names a schema column, or is "_idempotency_key" (a
//    non-empty string of at most 256 bytes, never stored), or "_op" on a
//    keyed table; other fields are refused or dropped per unknown_fields;
//  * a non-nullable column must be present and non-null unless it has a
//    default, which is then filled in; primary key columns of a keyed table
//    must always be present and non-null; a delete needs only those;
//  * values match their column type: integer/bigint take whole JSON numbers
//    (1.0 and 1e2 count as whole) within the type's range; double takes any
//    JSON number that fits a double; decimal(p,s) takes a JSON number or a
//    string in JSON number syntax, with at most p-s integer digits and at
//    most s fraction digits once trailing zeros are dropped; date takes
//    "YYYY-MM-DD"; timestamp and timestamptz take RFC 3339 text ('T' or a
//    space between date and time, up to 6 fraction digits, "Z" or
//    "+HH:MM"), where timestamptz requires the offset and timestamp treats
//    its absence as UTC, all within years 0001-9999 in UTC; uuid takes
//    8-4-4-4-12 hex; json takes any JSON value; T[] takes an array of T or
//    null; CHAR(n) needs exactly n characters and VARCHAR(n) at most n
//    (Unicode code points);
//  * constraints: enum, pattern (ECMAScript, whole value) and max_length
//    apply to varchar values, minimum and maximum to numeric values; for a
//    list they apply to each element. A value checked against a pattern may
//    be at most 2048 bytes (std::regex would exhaust the stack on long text).
//
// Throws Error(invalid_input) when the body's outer shape cannot be read
// (not an array, not {"events": [...]}, truncated, no events at all) or
// when options name columns the schema lacks, or a schema default does not
// fit its column; Error(payload_too_large) when the body holds more than
// options.max_events events.
ValidationResult validate_events(std::string_view body, BodyFormat format,
                                 const schema::TableSchema& schema,
                                 const ValidatorOptions& options);

// Decompresses a gzip body (one or more concatenated members).
// Throws Error(payload_too_large) as soon as the output would exceed
// max_bytes, so a small body cannot expand without bound, and
// Error(invalid_input) when the data is not gzip, is corrupt or truncated.
std::string gunzip(std::string_view body, std::size_t max_bytes);

}  // namespace duckmesh::ingest
