// `duckmesh query`: runs one SQL statement against a product of a running
// server (POST /v1/products/{p}/query) and prints the result.
//
// Formats: "table" (the default) prints an aligned text table with a footer
// naming the row count and snapshot, and a notice when max_rows cut the
// result short; "csv", "json" and "ndjson" print the server's body as it
// streams in, unchanged. The snapshot read is the latest unless pinned by id
// or by time (as_of, RFC 3339).
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "client/console.hpp"
#include "client/http_client.hpp"
#include "client/retry.hpp"

namespace duckmesh::client {

struct QuerySpec {
  std::string sql;
  std::string format = "table";  // table | csv | json | ndjson
  std::optional<std::int64_t> snapshot_id;
  std::optional<std::string> as_of;
  std::optional<std::size_t> max_rows;
};

// Throws duckmesh::Error (invalid_input) unless `format` is one of the four.
void check_query_format(const std::string& format);

// Runs `spec` against `product` and writes the result to `out` in the
// spec's format. Throws ServerError when the server refuses the query,
// TransportError when it cannot be reached (after retries) or the result is
// cut short, ProtocolError on an answer that is not a query result.
void run_sql(HttpClient& client, const std::string& product, const QuerySpec& spec,
             const RetryPolicy& retry, std::ostream& out, const RetryObserver& observer = {});

struct QueryCommand {
  ServerAddress server;
  std::string product;
  QuerySpec spec;  // spec.sql "-" reads the statement from standard input
  // A person or a script is waiting for one answer: a few quick attempts,
  // not the patience of a bulk load.
  RetryPolicy retry = [] {
    RetryPolicy p;
    p.max_attempts = 4;
    return p;
  }();
  HttpClientOptions http;
};

// Returns the exit code: kExitOk, kExitFailed (refused, unreachable),
// kExitBadInput (bad format or empty statement).
int run_query(const QueryCommand& command, Console& console, std::istream& standard_input);

}  // namespace duckmesh::client
