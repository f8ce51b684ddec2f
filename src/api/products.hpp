// /v1/products and /v1/products/{product}/tables: data products and their tables.
#pragma once

#include "http/router.hpp"
#include "product/product_service.hpp"

namespace duckmesh::api {

void add_product_routes(http::Router& router, product::ProductService& products);

}  // namespace duckmesh::api
