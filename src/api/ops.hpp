// /ops/{entity}: records of the default product's tables as a REST resource.
//   POST   /ops/{entity}          create (201, the stored record with server-set fields)
//   GET    /ops/{entity}          list: ?field=value filters, sort=a,-b, limit, offset, cursor
//   GET    /ops/{entity}/{id}     one record (404 when absent)
//   PUT    /ops/{entity}/{id}     replace; PATCH merges; DELETE removes (keyed tables)
// Writes answer after the snapshot that holds them (read-your-writes).
#pragma once

#include "domain/entity_ops.hpp"
#include "http/router.hpp"

namespace duckmesh::api {

// `product` is the product the records belong to (the default product).
void add_ops_routes(http::Router& router, domain::EntityOps& ops, const std::string& product);

}  // namespace duckmesh::api
