#include "api/domain.hpp"

#include <boost/json.hpp>

#include "auth/access.hpp"
#include "common/error.hpp"

namespace duckmesh::api {
namespace {

std::optional<ontology::Compatibility> mode_of(const http::Request& request,
                                               const boost::json::object* body) {
  if (auto q = request.query_param("compatibility")) return ontology::compatibility_from_string(*q);
  if (body) {
    if (auto it = body->find("compatibility"); it != body->end()) {
      if (!it->value().is_string()) {
        throw Error(ErrorCode::invalid_input,
                    "field 'compatibility' must be one of backward, forward, full, none",
                    {{"field", "compatibility"}});
      }
      return ontology::compatibility_from_string(it->value().as_string());
    }
  }
  return std::nullopt;
}

}  // namespace

void add_domain_routes(http::Router& router, DomainContext c) {
  router.add(
      http::Verb::post, "/ops/initialize",
      auth::Access::fixed_product(auth::Role::admin, c.product).audited("tables.initialize"),
      [c](http::Request& request) {
        bool force = request.bool_query_param("force", false);
        return http::Response::json(200, c.tables->initialize(c.product, force));
      },
      "Create or evolve every table the ontology defines (idempotent; ?force=true applies "
      "refused changes)");

  router.add(
      http::Verb::get, "/admin/tables", auth::Access::fixed_product(auth::Role::reader, c.product),
      [c](http::Request&) {
        return http::Response::json(
            200, {{"product", c.product}, {"tables", c.tables->list(c.product)}});
      },
      "Tables of the default product with their ontology version and compatibility mode");

  router.add(
      http::Verb::post, "/admin/tables",
      auth::Access::fixed_product(auth::Role::admin, c.product).audited("table.create"),
      [c](http::Request& request) {
        auto body = request.json_body();
        if (!body.is_object() || !body.as_object().contains("table") ||
            !body.as_object().at("table").is_string()) {
          throw Error(ErrorCode::invalid_input,
                      "field 'table' is required: the ontology schema id to create the table from",
                      {{"field", "table"}});
        }
        std::string id(body.as_object().at("table").as_string());
        auto outcome = c.tables->create(c.product, id, mode_of(request, &body.as_object()));
        return http::Response::json(outcome.outcome == "created" ? 201 : 200, outcome.to_json());
      },
      "Create a table from its ontology definition (201 created, 200 unchanged, 409 differs)");

  router.add(
      http::Verb::put, "/admin/tables/{table}",
      auth::Access::fixed_product(auth::Role::admin, c.product).audited("table.evolve"),
      [c](http::Request& request) {
        const auto& table = request.path_param("table");
        bool force = request.bool_query_param("force", false);
        std::optional<boost::json::value> body;
        if (!request.body().empty()) body = request.json_body();
        const boost::json::object* o = body && body->is_object() ? &body->as_object() : nullptr;
        if (o) {
          if (auto it = o->find("force"); it != o->end() && it->value().is_bool())
            force = force || it->value().as_bool();
        }
        auto outcome = c.tables->apply(c.product, table, mode_of(request, o), force);
        if (outcome.outcome == "refused") {
          auto report = outcome.to_json();
          throw Error(ErrorCode::conflict,
                      "table '" + table + "' was not evolved: " + outcome.message, report);
        }
        return http::Response::json(outcome.outcome == "created" ? 201 : 200, outcome.to_json());
      },
      "Evolve a table to the ontology's latest version, with the compatibility report "
      "(?force=true, ?compatibility=backward|forward|full|none)");

  router.add(
      http::Verb::delete_, "/admin/tables/{table}",
      auth::Access::fixed_product(auth::Role::admin, c.product).audited("table.drop"),
      [c](http::Request& request) {
        return http::Response::json(200,
                                    c.products->drop_table(c.product, request.path_param("table")));
      },
      "Drop a table of the default product");

  router.add(
      http::Verb::get, "/admin/ontology", auth::Access::fixed_product(auth::Role::admin, c.product),
      [c](http::Request&) {
        auto status = ontology::health_check(c.ontology->status());
        status["product"] = c.product;
        return http::Response::json(200, status);
      },
      "Ontology client status: server, circuit breaker, schema source in use");
}

}  // namespace duckmesh::api
