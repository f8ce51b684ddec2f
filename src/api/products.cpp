#include "api/products.hpp"

#include <boost/json.hpp>

#include "auth/access.hpp"

namespace duckmesh::api {

void add_product_routes(http::Router& router, product::ProductService& products) {
  using http::Request;
  using http::Response;
  using http::Verb;
  router.add(
      Verb::post, "/v1/products", auth::Access::superadmin().audited("product.create"),
      [&](Request& r) { return Response::json(201, products.create_product(r.json_body())); },
      "Create a data product {name, description, owner}");
  router.add(
      Verb::get, "/v1/products", auth::Access::any_identity(),
      [&](Request& r) {
        // Only the products the caller may read: one product's key never
        // learns that another product exists.
        boost::json::array visible;
        for (auto& p : products.list_products()) {
          const auto& name = p.as_object().at("name").as_string();
          if (!r.identity || r.identity->holds(auth::Role::reader, std::string_view(name)))
            visible.emplace_back(std::move(p));
        }
        return Response::json(200, {{"products", std::move(visible)}});
      },
      "List the data products the caller may read");
  router.add(
      Verb::get, "/v1/products/{product}", auth::Access::path_product(auth::Role::reader),
      [&](Request& r) {
        return Response::json(200, products.describe_product(r.path_param("product")));
      },
      "One data product with its latest snapshot");
  router.add(
      Verb::post, "/v1/products/{product}/tables",
      auth::Access::path_product(auth::Role::admin).audited("table.create"),
      [&](Request& r) {
        return Response::json(201, products.create_table(r.path_param("product"), r.json_body()));
      },
      "Create a table from a definition (name, kind, primary_key, partition_by, columns, ...)");
  router.add(
      Verb::get, "/v1/products/{product}/tables", auth::Access::path_product(auth::Role::reader),
      [&](Request& r) {
        return Response::json(200, {{"tables", products.list_tables(r.path_param("product"))}});
      },
      "List the product's tables");
  router.add(
      Verb::get, "/v1/products/{product}/tables/{table}",
      auth::Access::path_product(auth::Role::reader),
      [&](Request& r) {
        return Response::json(
            200, products.describe_table(r.path_param("product"), r.path_param("table")));
      },
      "A table's schema, version history and live figures");
  router.add(
      Verb::delete_, "/v1/products/{product}/tables/{table}",
      auth::Access::path_product(auth::Role::admin).audited("table.drop"),
      [&](Request& r) {
        return Response::json(200,
                              products.drop_table(r.path_param("product"), r.path_param("table")));
      },
      "Drop a table (a snapshot marks it dropped; its files go to garbage collection)");
}

}  // namespace duckmesh::api
