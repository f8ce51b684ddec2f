// `duckmesh ingest`: streams an NDJSON or CSV file into a table of a running
// server, in batches.
//
// Before sending, it reads the table's schema (GET .../tables/{t}): this
// checks the product and table exist and types CSV cells (see csv_events.hpp).
// Each batch is POSTed as NDJSON with an Idempotency-Key derived from the
// input and the batch's first line (see batch_key.hpp), so running the same
// command again after a crash or Ctrl-C is safe: batches the server already
// took come back as duplicates. Connection failures, 408, 429 and 5xx
// "try later" answers are retried with backoff, honouring Retry-After.
//
// Any other refusal stops the run with the server's message; for 422 each
// rejected event is printed with its line in the input, field, code and
// message. With skip_invalid the server takes the valid events of each batch
// (atomic=false) and the rejected ones are printed and counted instead.
//
// At the end, unless told not to wait, it waits until the last write is
// visible to queries and prints a summary: accepted, duplicates, rejected,
// seconds, events/s and the snapshot holding the data.
#pragma once

#include <chrono>
#include <istream>
#include <string>

#include "client/batch_source.hpp"
#include "client/console.hpp"
#include "client/http_client.hpp"
#include "client/retry.hpp"

namespace duckmesh::client {

struct IngestCommand {
  ServerAddress server;
  std::string product;
  std::string table;
  std::string input = "-";  // a file path, or "-" for standard input
  std::string format;       // "ndjson", "csv", or "" = by extension (.csv is CSV, else NDJSON)
  BatchLimits limits;
  bool gzip = false;          // compress request bodies
  bool skip_invalid = false;  // accept the valid events of a batch, report the rest
  bool wait = true;           // wait for the last write to be visible
  std::chrono::seconds wait_timeout{300};
  RetryPolicy retry;
  HttpClientOptions http;
};

// Runs the command; returns the exit code (see console.hpp): kExitOk,
// kExitRejected when skip_invalid dropped events, kExitFailed when the server
// refused a batch or could not be reached, kExitBadInput for unreadable input.
// Reads standard input from `standard_input` when the input is "-".
int run_ingest(const IngestCommand& command, Console& console, std::istream& standard_input);

}  // namespace duckmesh::client
