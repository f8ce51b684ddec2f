// What a newcomer or a catalog asks first:
//   GET /              welcome, with links
//   GET /openapi.json  OpenAPI 3.1 generated from the router's route table
//   GET /docs          a page rendering that document
//   GET /metadata      the default product as DCAT JSON-LD (datasets = tables)
#pragma once

#include <string>

#include "http/router.hpp"
#include "product/product_service.hpp"

namespace duckmesh::api {

struct DiscoveryContext {
  std::string product;  // the default product
  product::ProductService* products = nullptr;
  const http::Router* router = nullptr;  // read at request time, after every route is added
};

void add_discovery_routes(http::Router& router, DiscoveryContext context);

}  // namespace duckmesh::api
