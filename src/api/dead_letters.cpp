#include "api/dead_letters.hpp"

#include <boost/json.hpp>

#include "auth/access.hpp"
#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/json_text.hpp"
#include "schema/binary_payload.hpp"

namespace duckmesh::api {
namespace {

boost::json::object to_json(const bus::DeadLetter& d) {
  // The payload is the event as validated at ingest (binary or canonical
  // JSON), shown as JSON; as text, or what was wrong with it, if it ever
  // cannot be, rather than hiding the dead letter.
  boost::json::value event;
  try {
    const std::string json = schema::payload_json(d.record.payload);
    boost::system::error_code ec;
    event = boost::json::parse(json, ec);
    if (ec) event = boost::json::string(json);
  } catch (const Error& e) {
    event = boost::json::string(e.what());
  }
  return {{"position", d.record.position},
          {"table", d.record.table},
          {"idempotency_key", d.record.idempotency_key.empty()
                                  ? boost::json::value(nullptr)
                                  : boost::json::value(d.record.idempotency_key)},
          {"reason", d.reason},
          {"attempts", d.record.attempts},
          {"ingested_at", calendar::iso_utc(d.record.ingested_unix_us)},
          {"dead_at", calendar::iso_utc(d.dead_unix_us)},
          {"event", std::move(event)}};
}

ingest::ReplayRequest replay_request(const std::string& product, const boost::json::value& body) {
  if (!body.is_object()) {
    throw Error(ErrorCode::invalid_input,
                "the body must be a JSON object: {\"positions\": [...]} or {\"table\": \"...\"}");
  }
  ingest::ReplayRequest request;
  request.product = product;
  for (const auto& [key, value] : body.as_object()) {
    if (key == "positions") {
      if (!value.is_array() || value.as_array().empty()) {
        throw Error(ErrorCode::invalid_input,
                    "field 'positions' must be a non-empty array of dead letters' positions",
                    {{"field", "positions"}});
      }
      for (const auto& p : value.as_array()) {
        // Whole numbers parse as int64, or as uint64 past its range.
        if (!p.is_uint64() && !(p.is_int64() && p.as_int64() > 0)) {
          throw Error(ErrorCode::invalid_input,
                      "field 'positions' holds " + to_json_text(p) +
                          "; each position is a whole number above 0",
                      {{"field", "positions"}});
        }
        request.positions.push_back(p.is_uint64() ? p.as_uint64()
                                                  : static_cast<bus::Position>(p.as_int64()));
      }
    } else if (key == "table") {
      if (!value.is_string() || value.as_string().empty()) {
        throw Error(ErrorCode::invalid_input, "field 'table' must be a table's name",
                    {{"field", "table"}});
      }
      request.table = std::string(value.as_string());
    } else {
      throw Error(ErrorCode::invalid_input,
                  "unknown field '" + std::string(key) + "'; allowed: positions, table",
                  {{"field", std::string(key)}});
    }
  }
  return request;
}

}  // namespace

void add_dead_letter_routes(http::Router& router, ingest::DeadLetters& dead_letters) {
  router.add(
      http::Verb::get, "/v1/products/{product}/dead-letters",
      auth::Access::path_product(auth::Role::admin),
      [&](http::Request& r) {
        ingest::DeadLetterQuery query;
        query.product = r.path_param("product");
        query.table = r.query_param("table").value_or("");
        query.limit = static_cast<std::size_t>(r.int_query_param(
            "limit", 100, 1, static_cast<std::int64_t>(ingest::DeadLetters::kMaxPerCall)));
        boost::json::array out;
        for (const auto& d : dead_letters.list(query)) out.push_back(to_json(d));
        return http::Response::json(200, {{"count", out.size()}, {"dead_letters", std::move(out)}});
      },
      "Events that failed to commit, oldest first, with the reason (admin)");

  router.add(
      http::Verb::post, "/v1/products/{product}/dead-letters/replay",
      auth::Access::path_product(auth::Role::admin).audited("dead_letters.replay"),
      [&](http::Request& r) {
        auto outcome = dead_letters.replay(replay_request(r.path_param("product"), r.json_body()));
        boost::json::array replayed, already;
        for (const auto& e : outcome.replayed) {
          replayed.push_back({{"position", e.position}, {"replayed_as", e.replayed_as}});
        }
        for (const auto p : outcome.already_replayed) already.push_back(p);
        return http::Response::json(
            200, {{"replayed", std::move(replayed)},
                  {"already_replayed", std::move(already)},
                  {"remaining", outcome.remaining},
                  {"visibility_token", outcome.token ? boost::json::value(outcome.token->encode())
                                                     : boost::json::value(nullptr)}});
      },
      "Publish dead letters again once their cause is mended: by position or a whole table "
      "(admin)");
}

}  // namespace duckmesh::api
