// POST /v1/products/{product}/query and the snapshots API.
#pragma once

#include "catalog/catalog_repo.hpp"
#include "http/router.hpp"
#include "query/query_service.hpp"

namespace duckmesh::api {

void add_query_routes(http::Router& router, query::QueryService& queries,
                      const catalog::CatalogRepo& catalog);

}  // namespace duckmesh::api
