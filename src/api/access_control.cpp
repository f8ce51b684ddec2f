#include "api/access_control.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "auth/access.hpp"
#include "common/error.hpp"

namespace duckmesh::api {

std::int64_t parse_since(const std::string& text) {
  auto bad = [&] {
    return Error(ErrorCode::invalid_input,
                 "query parameter 'since' must be Unix seconds or an RFC 3339 UTC time such as "
                 "2025-01-31T12:00:00Z",
                 {{"field", "since"}, {"value", text}});
  };
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (seconds < 0 || seconds > 253'402'300'799) throw bad();
    return seconds * 1'000'000;
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    throw bad();
  }
  std::string rest = text.substr(static_cast<std::size_t>(consumed));
  std::int64_t micros = 0;
  if (!rest.empty() && rest.front() == '.') {
    std::size_t i = 1;
    std::int64_t scale = 100'000;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i) {
      micros += (rest[i] - '0') * scale;
      scale /= 10;
    }
    if (i == 1) throw bad();
    rest = rest.substr(i);
  }
  if (rest != "Z" || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    throw bad();
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000 + micros;
}

void add_access_control_routes(http::Router& router, AccessControlContext c) {
  using auth::Access;
  using auth::Role;

  router.add(
      http::Verb::get, "/v1/audit", Access::query_product(Role::admin),
      [c](http::Request& r) {
        std::string product = r.query_param("product").value_or("");
        auto limit = r.int_query_param("limit", 100, 1, 10'000);
        std::int64_t since = 0;
        if (auto s = r.query_param("since")) since = parse_since(*s);
        boost::json::array entries;
        for (const auto& e : c.audit->list(product, since, static_cast<std::size_t>(limit)))
          entries.emplace_back(auth::to_json(e));
        return http::Response::json(200, {{"entries", std::move(entries)}});
      },
      "Audit log of administrative actions, newest first (?product=, limit, since=Unix seconds "
      "or RFC 3339); all products for superadmin only");

  router.add(
      http::Verb::post, "/v1/products/{product}/keys",
      Access::path_product(Role::admin).audited("key.create"),
      [c](http::Request& r) {
        auto body = r.json_body();
        const char* allowed = "reader, writer or admin";
        auto* role_field = body.is_object() ? body.as_object().if_contains("role") : nullptr;
        if (!role_field || !role_field->is_string()) {
          throw Error(ErrorCode::invalid_input, std::string("field 'role' is required: ") + allowed,
                      {{"field", "role"}});
        }
        auto role = auth::role_from_string(role_field->as_string());
        if (!role || *role == Role::superadmin) {
          throw Error(ErrorCode::invalid_input,
                      "field 'role' must be " + std::string(allowed) +
                          "; platform keys are made with `duckmesh keys create --role superadmin`",
                      {{"field", "role"}});
        }
        auto issued = c.keys->create(r.path_param("product"), *role);
        auto out = auth::to_json(issued.record);
        out["key"] = issued.token;
        return http::Response::json(201, out);
      },
      "Create an API key of the product {role: reader|writer|admin}; the key is shown only in "
      "this answer");

  router.add(
      http::Verb::get, "/v1/products/{product}/keys", Access::path_product(Role::admin),
      [c](http::Request& r) {
        boost::json::array keys;
        for (const auto& k : c.keys->list(r.path_param("product")))
          keys.emplace_back(auth::to_json(k));
        return http::Response::json(200, {{"keys", std::move(keys)}});
      },
      "The product's API keys (never their secrets)");

  router.add(
      http::Verb::delete_, "/v1/products/{product}/keys/{key}",
      Access::path_product(Role::admin).audited("key.revoke"),
      [c](http::Request& r) {
        const auto& product = r.path_param("product");
        const auto& id = r.path_param("key");
        auto key = c.keys->find(id);
        if (!key || key->product != product) {
          throw Error(ErrorCode::not_found, "product '" + product + "' has no API key '" + id + "'",
                      {{"key_id", id}});
        }
        return http::Response::json(200, auth::to_json(c.keys->revoke(id)));
      },
      "Revoke one of the product's API keys (effective on the next request)");
}

}  // namespace duckmesh::api
