#include "api/query.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <set>

#include "auth/access.hpp"
#include "common/error.hpp"
#include "product/product_service.hpp"

namespace duckmesh::api {
namespace {

// Hands encoded query output to the HTTP connection as chunks.
class ChunkSink : public query::ResultSink {
 public:
  explicit ChunkSink(const http::ChunkWriter& write) : write_(write) {}
  void write(std::string_view bytes) override { write_(bytes); }

 private:
  const http::ChunkWriter& write_;
};

void require_product(const catalog::CatalogRepo& catalog, const std::string& product) {
  if (!catalog.find_product(product)) {
    throw Error(ErrorCode::not_found, "product '" + product + "' does not exist",
                {{"product", product}});
  }
}

}  // namespace

void add_query_routes(http::Router& router, query::QueryService& queries,
                      const catalog::CatalogRepo& catalog) {
  router.add(
      http::Verb::post, "/v1/products/{product}/query",
      auth::Access::path_product(auth::Role::reader),
      [&](http::Request& r) {
        auto request = query::QueryRequest::from_json(r.json_body());
        std::string product = r.path_param("product");
        // Resolve (and wait for a token) before streaming starts, so the
        // snapshot can be named in a header and resolution errors are plain
        // error responses.
        auto snapshot = queries.resolve(product, request);
        request.snapshot_id = snapshot.id;
        request.as_of.reset();
        request.min_visibility_token.reset();
        auto response =
            http::Response::text(200, "", std::string(query::content_type(request.format)));
        response.header("X-Snapshot-Id", std::to_string(snapshot.id));
        response.stream = [&queries, product, request](const http::ChunkWriter& write) {
          ChunkSink sink(write);
          queries.run(product, request, sink);
        };
        return response;
      },
      "Run one read-only SQL statement over a snapshot (latest, by id, as of a time, or after a "
      "write); "
      "the result streams with chunked transfer encoding");

  router.add(
      http::Verb::get, "/v1/products/{product}/tables/{table}/changes",
      auth::Access::path_product(auth::Role::reader),
      [&](http::Request& r) {
        auto from = r.int_query_param("from", 0, 0, INT64_MAX);
        auto to_default = catalog.latest_snapshot(r.path_param("product"));
        auto to = r.int_query_param("to", to_default ? to_default->id : 1, 1, INT64_MAX);
        auto format = query::format_from_string(r.query_param("format").value_or("json"));
        auto max_rows = r.int_query_param("max_rows", 10'000, 0, 1'000'000);
        query::StringSink sink;
        auto result = queries.changes(r.path_param("product"), r.path_param("table"), from, to,
                                      format, static_cast<std::size_t>(max_rows), sink);
        auto response = http::Response::text(200, std::move(sink.data),
                                             std::string(query::content_type(format)));
        response.header("X-Row-Count", std::to_string(result.outcome.row_count));
        return response;
      },
      "Rows added to a table by ingest between snapshots from (exclusive) and to (inclusive), with "
      "system columns");

  router.add(
      http::Verb::get, "/v1/products/{product}/tables/{table}/history",
      auth::Access::path_product(auth::Role::reader),
      [&](http::Request& r) {
        const auto& product = r.path_param("product");
        const auto& table = r.path_param("table");
        require_product(catalog, product);
        auto limit = r.int_query_param("limit", 100, 1, 10'000);
        std::set<std::int64_t> schema_snapshots;
        for (const auto& v : catalog.schema_history(product, table))
          schema_snapshots.insert(v.snapshot_id);
        if (schema_snapshots.empty()) {
          throw Error(ErrorCode::not_found,
                      "table '" + table + "' has no history in product '" + product + "'",
                      {{"table", table}});
        }
        boost::json::array out;
        std::int64_t before = 0;
        // Walk snapshots newest first; keep those that touched this table.
        while (out.size() < static_cast<std::size_t>(limit)) {
          auto page = catalog.list_snapshots(product, 500, before);
          if (page.empty()) break;
          for (const auto& s : page) {
            bool touched = schema_snapshots.count(s.id) > 0;
            if (!touched) {
              boost::system::error_code ec;
              auto summary = boost::json::parse(s.summary_json, ec);
              if (!ec && summary.is_object()) {
                auto tables = summary.as_object().if_contains("tables");
                touched = tables && tables->is_object() && tables->as_object().contains(table);
                auto dropped = summary.as_object().if_contains("table");
                touched =
                    touched || (dropped && dropped->is_string() && dropped->as_string() == table);
              }
            }
            if (touched && out.size() < static_cast<std::size_t>(limit))
              out.emplace_back(product::to_json(s));
            before = s.id;
          }
          if (before <= 1) break;
        }
        return http::Response::json(200, {{"table", table}, {"snapshots", std::move(out)}});
      },
      "Snapshots that changed a table (schema versions and ingests), newest first");

  router.add(
      http::Verb::get, "/v1/products/{product}/snapshots",
      auth::Access::path_product(auth::Role::reader),
      [&](http::Request& r) {
        const auto& product = r.path_param("product");
        require_product(catalog, product);
        auto limit = r.int_query_param("limit", 50, 1, 1000);
        auto before = r.int_query_param("before", 0, 0, INT64_MAX);
        boost::json::array out;
        std::int64_t last = 0;
        for (const auto& s :
             catalog.list_snapshots(product, static_cast<std::size_t>(limit), before)) {
          out.emplace_back(product::to_json(s));
          last = s.id;
        }
        boost::json::object body{{"snapshots", std::move(out)}};
        body["next_before"] =
            (last > 1 && static_cast<std::int64_t>(body["snapshots"].as_array().size()) == limit)
                ? boost::json::value(last)
                : boost::json::value(nullptr);
        return http::Response::json(200, body);
      },
      "Snapshots, newest first (limit, before=id for the next page)");

  router.add(
      http::Verb::get, "/v1/products/{product}/snapshots/{snapshot}",
      auth::Access::path_product(auth::Role::reader),
      [&](http::Request& r) {
        const auto& product = r.path_param("product");
        require_product(catalog, product);
        const auto& text = r.path_param("snapshot");
        std::int64_t id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (ec != std::errc() || end != text.data() + text.size() || id < 1) {
          throw Error(ErrorCode::invalid_input, "snapshot id must be a positive whole number",
                      {{"field", "snapshot"}});
        }
        auto s = catalog.find_snapshot(product, id);
        if (!s)
          throw Error(ErrorCode::not_found, "snapshot " + text + " does not exist",
                      {{"snapshot_id", id}});
        auto body = product::to_json(*s);
        boost::json::object tables;
        for (const auto& f : catalog.live_files(product, id, "")) {
          auto& t = tables[f.table];
          if (t.is_null()) t = boost::json::object{{"files", 0}, {"rows", 0}, {"bytes", 0}};
          auto& o = t.as_object();
          o["files"] = o["files"].as_int64() + 1;
          o["rows"] = o["rows"].as_int64() + f.row_count;
          o["bytes"] = o["bytes"].as_int64() + f.bytes;
        }
        body["tables"] = std::move(tables);
        return http::Response::json(200, body);
      },
      "One snapshot with the files, rows and bytes of each table live in it");
}

}  // namespace duckmesh::api
