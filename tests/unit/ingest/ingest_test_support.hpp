// Shared helpers for the src/ingest tests: schemas from JSON text, single
// events through the validator, and expectations on the outcome.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "ingest/validation.hpp"
#include "schema/binary_payload.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::ingest::testing {

inline schema::TableSchema make_schema(std::string_view columns_json) {
  return schema::TableSchema::from_json(boost::json::parse(columns_json));
}

// The outcome of validating a body holding exactly one event. `payload` is
// the accepted event's payload as canonical JSON (binary ones converted).
struct Outcome {
  bool ok = false;
  bool binary = false;  // the validator wrote a binary payload
  std::string payload;
  std::string key;
  EventError error{0, "", "", ""};
};

inline Outcome check_one(std::string_view event, const schema::TableSchema& schema,
                         const ValidatorOptions& options = {}) {
  auto result = validate_events(event, BodyFormat::ndjson, schema, options);
  EXPECT_EQ(result.total, 1u) << event;
  Outcome o;
  if (result.valid.size() == 1) {
    o.ok = true;
    o.binary = schema::is_binary_payload(result.valid[0].payload);
    o.payload = schema::payload_json(result.valid[0].payload);
    o.key = result.valid[0].idempotency_key;
  } else if (result.rejected.size() == 1) {
    o.error = result.rejected[0];
  } else {
    ADD_FAILURE() << "expected one outcome for " << event;
  }
  return o;
}

// Runs `f`, which must throw duckmesh::Error, and returns the error.
template <class F>
Error expect_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a duckmesh::Error";
  return Error(ErrorCode::internal, "no error thrown");
}

}  // namespace duckmesh::ingest::testing

// Asserts that `outcome` (an Outcome) was accepted with payload `expected`.
#define EXPECT_PAYLOAD(outcome, expected)                                               \
  do {                                                                                  \
    auto o_ = (outcome);                                                                \
    EXPECT_TRUE(o_.ok) << "refused: " << o_.error.code << " " << o_.error.field << ": " \
                       << o_.error.message;                                             \
    EXPECT_EQ(o_.payload, expected);                                                    \
  } while (0)

// Asserts that `outcome` was refused with this field and code.
#define EXPECT_REFUSED(outcome, expected_field, expected_code)     \
  do {                                                             \
    auto o_ = (outcome);                                           \
    EXPECT_FALSE(o_.ok) << "accepted: " << o_.payload;             \
    EXPECT_EQ(o_.error.field, expected_field) << o_.error.message; \
    EXPECT_EQ(o_.error.code, expected_code) << o_.error.message;   \
    EXPECT_FALSE(o_.error.message.empty());                        \
  } while (0)
