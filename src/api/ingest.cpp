#include "api/ingest.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "auth/access.hpp"
#include "common/error.hpp"

namespace duckmesh::api {
namespace {

ingest::BodyFormat body_format(const http::Request& r) {
  std::string type(r.header("Content-Type"));
  auto semi = type.find(';');
  if (semi != std::string::npos) type = type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (type.empty() || type == "application/json") return ingest::BodyFormat::json;
  if (type == "application/x-ndjson" || type == "application/ndjson" ||
      type == "application/jsonl") {
    return ingest::BodyFormat::ndjson;
  }
  throw Error(ErrorCode::invalid_input,
              "Content-Type '" + type +
                  "' is not supported; send application/json (an array or "
                  "{\"events\": [...]}) or application/x-ndjson",
              {{"field", "Content-Type"}});
}

bool gzip_encoded(const http::Request& r) {
  std::string enc(r.header("Content-Encoding"));
  std::transform(enc.begin(), enc.end(), enc.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (enc.empty() || enc == "identity") return false;
  if (enc == "gzip") return true;
  throw Error(ErrorCode::invalid_input,
              "Content-Encoding '" + enc + "' is not supported; use gzip or none",
              {{"field", "Content-Encoding"}});
}

}  // namespace

void add_ingest_routes(http::Router& router, ingest::IngestService& service) {
  router.add(
      http::Verb::post, "/v1/products/{product}/tables/{table}/events",
      auth::Access::path_product(auth::Role::writer),
      [&](http::Request& r) {
        ingest::IngestRequest request;
        request.product = r.path_param("product");
        request.table = r.path_param("table");
        request.body = r.body();
        request.format = body_format(r);
        request.gzip = gzip_encoded(r);
        request.atomic = r.bool_query_param("atomic", true);
        request.batch_key = std::string(r.header("Idempotency-Key"));
        if (request.batch_key.size() > 200) {
          throw Error(ErrorCode::invalid_input,
                      "header 'Idempotency-Key' is longer than 200 characters",
                      {{"field", "Idempotency-Key"}});
        }
        bool wait = r.bool_query_param("wait_for_visibility", false);
        auto timeout = r.int_query_param("timeout_ms", 5000, 0, 120'000);

        auto outcome = service.ingest(request);
        bool visible = false;
        std::optional<std::int64_t> snapshot;
        if (wait) {
          visible = service.wait_visible(outcome.token, std::chrono::milliseconds(timeout));
          if (visible) snapshot = service.visibility(outcome.token).snapshot_id;
        }
        boost::json::object body{
            {"total", outcome.total},
            {"accepted", outcome.accepted},
            {"duplicates", outcome.duplicates},
            {"rejected", ingest::event_errors_json(outcome.rejected)},
            {"visibility_token", outcome.token.encode()},
            {"visible", visible},
            {"snapshot_id", snapshot ? boost::json::value(*snapshot) : boost::json::value(nullptr)},
            {"replayed", outcome.replayed},
        };
        return http::Response::json(visible ? 200 : 202, body);
      },
      "Ingest events (JSON array, {\"events\": [...]}, or NDJSON; gzip allowed)");

  router.add(
      http::Verb::get, "/v1/products/{product}/visibility/{token}",
      auth::Access::path_product(auth::Role::reader),
      [&](http::Request& r) {
        auto token = ingest::VisibilityToken::decode(r.path_param("token"));
        if (token.product != r.path_param("product")) {
          throw Error(ErrorCode::invalid_input, "the token belongs to another product",
                      {{"field", "token"}});
        }
        auto v = service.visibility(token);
        return http::Response::json(
            200, {{"visible", v.visible},
                  {"position", token.position},
                  {"watermark", v.watermark},
                  {"snapshot_id", v.snapshot_id ? boost::json::value(*v.snapshot_id)
                                                : boost::json::value(nullptr)}});
      },
      "Whether the events behind a visibility token are visible, and in which snapshot");
  router.add(
      http::Verb::get, "/v1/products/{product}/quota",
      auth::Access::path_product(auth::Role::reader),
      [&](http::Request& r) {
        auto u = service.quota_usage(r.path_param("product"));
        auto limit = [](std::uint64_t v) {
          return v == 0 ? boost::json::value(nullptr) : boost::json::value(v);
        };
        return http::Response::json(
            200, {{"events_per_day",
                   {{"limit", limit(u.limits.events_per_day)},
                    {"used_today", u.events_today},
                    {"resets_at_unix_s", u.day_resets_at_unix_s}}},
                  {"stored_bytes",
                   {{"limit", limit(u.limits.stored_bytes)}, {"used", u.stored_bytes}}}});
      },
      "The product's quotas (null: no limit) and what it used today and stores");
}

}  // namespace duckmesh::api
