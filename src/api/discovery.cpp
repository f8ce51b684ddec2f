#include "api/discovery.hpp"

#include <boost/json.hpp>

#include "auth/access.hpp"
#include "common/error.hpp"
#include "common/json_text.hpp"
#include "http/openapi.hpp"

namespace duckmesh::api {
namespace {

// A page that fetches /openapi.json and lists every operation; no external
// scripts, so it works offline and behind strict proxies.
constexpr const char* kDocsPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DuckMesh API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}
code{background:#f4f4f4;padding:.1rem .3rem}.m{display:inline-block;width:4.5rem;font-weight:bold}
li{margin:.3rem 0}</style></head>
<body><h1>DuckMesh API</h1><p>Generated from <a href="/openapi.json">/openapi.json</a>.</p>
<ul id="ops"></ul>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const ul = document.getElementById('ops');
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const li = document.createElement('li');
      const m = document.createElement('span'); m.className = 'm'; m.textContent = method.toUpperCase();
      const c = document.createElement('code'); c.textContent = path;
      li.append(m, c, document.createTextNode(' ' + (op.summary || '')));
      ul.append(li);
    }
  }
});
</script></body></html>
)HTML";

}  // namespace

void add_discovery_routes(http::Router& router, DiscoveryContext c) {
  router.add(
      http::Verb::get, "/", auth::Access::public_route(),
      [c](http::Request&) {
        return http::Response::json(200, {{"name", "DuckMesh"},
                                          {"version", DUCKMESH_VERSION},
                                          {"description", "Governed data products on DuckDB"},
                                          {"default_product", c.product},
                                          {"links",
                                           {{"docs", "/docs"},
                                            {"openapi", "/openapi.json"},
                                            {"metadata", "/metadata"},
                                            {"health", "/monitoring/health"},
                                            {"metrics", "/metrics"},
                                            {"tables", "/admin/tables"},
                                            {"example", "/ops/projects"},
                                            {"products", "/v1/products"}}}});
      },
      "Welcome, with links to the rest of the API");

  router.add(
      http::Verb::get, "/openapi.json", auth::Access::public_route(),
      [c](http::Request&) {
        return http::Response::json(
            200, http::openapi_document(
                     *c.router, {.title = "DuckMesh",
                                 .version = DUCKMESH_VERSION,
                                 .description = "Governed, multi-tenant data products on DuckDB"}));
      },
      "OpenAPI 3.1 description of every route");

  router.add(
      http::Verb::get, "/docs", auth::Access::public_route(),
      [](http::Request&) {
        return http::Response::text(200, kDocsPage, "text/html; charset=utf-8");
      },
      "API documentation page");

  router.add(
      http::Verb::get, "/metadata", auth::Access::fixed_product(auth::Role::reader, c.product),
      [c](http::Request& request) {
        auto product = c.products->describe_product(c.product);
        std::string host(request.header("Host"));
        std::string base = host.empty() ? "" : "http://" + host;
        boost::json::array datasets;
        for (const auto& t : c.products->list_tables(c.product)) {
          const auto& o = t.as_object();
          std::string name(o.at("name").as_string());
          boost::json::array columns;
          for (const auto& col : o.at("columns").as_array()) {
            columns.emplace_back(
                boost::json::object{{"name", col.at("name")},
                                    {"datatype", col.at("type")},
                                    {"required", !col.at("nullable").as_bool()},
                                    {"dct:description", col.as_object().contains("description")
                                                            ? col.at("description")
                                                            : boost::json::value("")}});
          }
          datasets.emplace_back(boost::json::object{
              {"@type", "dcat:Dataset"},
              {"@id", base + "/v1/products/" + c.product + "/tables/" + name},
              {"dct:identifier", name},
              {"dct:title", name},
              {"dct:description", o.at("description")},
              {"dct:publisher", product.at("owner")},
              {"dct:accrualPeriodicity", "continuous"},
              {"dct:conformsTo",
               {{"kind", o.at("kind")},
                {"primary_key", o.at("primary_key")},
                {"schema_version", o.at("schema_version")},
                {"columns", std::move(columns)}}},
              {"dcat:distribution",
               boost::json::array{boost::json::object{
                   {"@type", "dcat:Distribution"},
                   {"dcat:accessURL", base + "/v1/products/" + c.product + "/query"},
                   {"dct:format", "SQL over HTTP (JSON, NDJSON, CSV, Parquet, Arrow)"},
                   {"dct:description", "POST {\"sql\": \"SELECT * FROM " + name + "\"}"}}}}});
        }
        boost::json::object body{
            {"@context",
             {{"dcat", "http://www.w3.org/ns/dcat#"}, {"dct", "http://purl.org/dc/terms/"}}},
            {"@type", "dcat:Catalog"},
            {"@id", base + "/metadata"},
            {"dct:identifier", c.product},
            {"dct:title", c.product},
            {"dct:description", product.at("description")},
            {"dct:publisher", product.at("owner")},
            {"dcat:dataset", std::move(datasets)}};
        return http::Response::text(200, to_json_text(body), "application/ld+json");
      },
      "The default data product as DCAT JSON-LD");
}

}  // namespace duckmesh::api
