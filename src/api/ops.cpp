#include "api/ops.hpp"

#include <boost/json.hpp>

#include "auth/access.hpp"
#include "common/error.hpp"

namespace duckmesh::api {

void add_ops_routes(http::Router& router, domain::EntityOps& ops, const std::string& product) {
  router.add(
      http::Verb::post, "/ops/{entity}", auth::Access::fixed_product(auth::Role::writer, product),
      [&ops](http::Request& r) {
        return http::Response::json(201, ops.create(r.path_param("entity"), r.json_body()));
      },
      "Create a record (201 with server-set fields such as a generated key and timestamps)");
  router.add(
      http::Verb::get, "/ops/{entity}", auth::Access::fixed_product(auth::Role::reader, product),
      [&ops](http::Request& r) {
        domain::ListQuery q;
        for (const auto& [k, v] : r.query) {
          if (k == "sort")
            q.sort = v;
          else if (k == "cursor")
            q.cursor = v;
          else if (k != "limit" && k != "offset")
            q.filters.emplace(k, v);
        }
        q.limit = r.int_query_param("limit", 50, 1, 1000);
        q.offset = r.int_query_param("offset", 0, 0, INT64_MAX);
        return http::Response::json(200, ops.list(r.path_param("entity"), q));
      },
      "List records: ?field=value filters, sort=a,-b, limit, offset or cursor pagination");
  router.add(
      http::Verb::get, "/ops/{entity}/{id}",
      auth::Access::fixed_product(auth::Role::reader, product),
      [&ops](http::Request& r) {
        return http::Response::json(200, ops.get(r.path_param("entity"), r.path_param("id")));
      },
      "One record by its key (404 when absent)");
  router.add(
      http::Verb::put, "/ops/{entity}/{id}",
      auth::Access::fixed_product(auth::Role::writer, product),
      [&ops](http::Request& r) {
        return http::Response::json(
            200, ops.update(r.path_param("entity"), r.path_param("id"), r.json_body(), false));
      },
      "Replace a record");
  router.add(
      http::Verb::patch, "/ops/{entity}/{id}",
      auth::Access::fixed_product(auth::Role::writer, product),
      [&ops](http::Request& r) {
        return http::Response::json(
            200, ops.update(r.path_param("entity"), r.path_param("id"), r.json_body(), true));
      },
      "Change some fields of a record");
  router.add(
      http::Verb::delete_, "/ops/{entity}/{id}",
      auth::Access::fixed_product(auth::Role::writer, product),
      [&ops](http::Request& r) {
        return http::Response::json(200, ops.remove(r.path_param("entity"), r.path_param("id")));
      },
      "Delete a record");
}

}  // namespace duckmesh::api
