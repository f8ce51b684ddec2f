#include "api/products.hpp"

#include <boost/json.hpp>

namespace duckmesh::api {

void add_product_routes(http::Router& router, product::ProductService& products) {
  using http::Request;
  using http::Response;
  using http::Verb;
  router.add(
      Verb::post, "/v1/products",
      [&](Request& r) { return Response::json(201, products.create_product(r.json_body())); },
      "Create a data product {name, description, owner}");
  router.add(
      Verb::get, "/v1/products",
      [&](Request&) {
        return Response::json(200, {{"products", products.list_products()}});
      },
      "List data products");
  router.add(
      Verb::get, "/v1/products/{product}",
      [&](Request& r) {
        return Response::json(200, products.describe_product(r.path_param("product")));
      },
      "One data product with its latest snapshot");
  router.add(
      Verb::post, "/v1/products/{product}/tables",
      [&](Request& r) {
        return Response::json(201, products.create_table(r.path_param("product"), r.json_body()));
      },
      "Create a table from a definition (name, kind, primary_key, partition_by, columns, ...)");
  router.add(
      Verb::get, "/v1/products/{product}/tables",
      [&](Request& r) {
        return Response::json(200, {{"tables", products.list_tables(r.path_param("product"))}});
      },
      "List the product's tables");
  router.add(
      Verb::get, "/v1/products/{product}/tables/{table}",
      [&](Request& r) {
        return Response::json(
            200, products.describe_table(r.path_param("product"), r.path_param("table")));
      },
      "A table's schema, version history and live figures");
  router.add(
      Verb::delete_, "/v1/products/{product}/tables/{table}",
      [&](Request& r) {
        return Response::json(200,
                              products.drop_table(r.path_param("product"), r.path_param("table")));
      },
      "Drop a table (a snapshot marks it dropped; its files go to garbage collection)");
}

}  // namespace duckmesh::api
