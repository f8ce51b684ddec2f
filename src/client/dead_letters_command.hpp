// `duckmesh dead-letters list|replay`: the dead-letter area of a product on
// a running server (GET /v1/products/{p}/dead-letters and POST
// .../dead-letters/replay), for an admin of the product.
//
// list prints an aligned table (position, table, attempts, dead_at,
// reason, the event as compact JSON) or, with format "json", the server's
// answer as it is. replay takes either a table or one or more positions and
// prints each replayed position with its new one and the visibility token
// that covers them; it is sent once, never retried, since a replay that
// reached the server must not be asked for again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/console.hpp"
#include "client/http_client.hpp"
#include "client/retry.hpp"

namespace duckmesh::client {

struct DeadLettersCommand {
  ServerAddress server;
  enum class Action { list, replay } action = Action::list;
  std::string product;
  std::string table;                     // list: only this table; replay: all of it
  std::vector<std::uint64_t> positions;  // replay: these
  std::size_t limit = 100;               // list
  std::string format = "table";          // list: table | json
  RetryPolicy retry = [] {
    RetryPolicy p;
    p.max_attempts = 4;
    return p;
  }();
  HttpClientOptions http;
};

// Returns the exit code: kExitOk, kExitFailed (refused, unreachable),
// kExitBadInput (replay without a table or positions, or with both; an
// unknown format).
int run_dead_letters(const DeadLettersCommand& command, Console& console);

}  // namespace duckmesh::client
