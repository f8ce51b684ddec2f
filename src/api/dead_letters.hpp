// GET  /v1/products/{product}/dead-letters[?table=T&limit=N]
// POST /v1/products/{product}/dead-letters/replay {"positions": [...]} | {"table": "T"}
#pragma once

#include "http/router.hpp"
#include "ingest/dead_letters.hpp"

namespace duckmesh::api {

void add_dead_letter_routes(http::Router& router, ingest::DeadLetters& dead_letters);

}  // namespace duckmesh::api
