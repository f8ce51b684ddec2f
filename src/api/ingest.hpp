// POST /v1/products/{product}/tables/{table}/events and
// GET /v1/products/{product}/visibility/{token}.
#pragma once

#include "http/router.hpp"
#include "ingest/service.hpp"

namespace duckmesh::api {

void add_ingest_routes(http::Router& router, ingest::IngestService& ingest);

}  // namespace duckmesh::api
