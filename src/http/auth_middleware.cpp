#include "http/auth_middleware.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace duckmesh::http {
namespace {

std::optional<std::string> product_of(const auth::Access& access, const Request& request) {
  using Kind = auth::Access::Kind;
  switch (access.kind()) {
    case Kind::path_product: {
      auto it = request.path_params.find(access.product_source());
      if (it == request.path_params.end()) return std::nullopt;
      return it->second;
    }
    case Kind::query_product: {
      auto v = request.query_param(access.product_source());
      if (!v || v->empty()) return std::nullopt;
      return v;
    }
    case Kind::fixed_product: return access.product_source();
    default: return std::nullopt;
  }
}

std::string reason_of(const Error& e) {
  if (auto* r = e.details().if_contains("reason"); r && r->is_string())
    return std::string(r->as_string());
  return "other";
}

}  // namespace

Middleware authorize(const Router& router, const auth::Authenticator& authenticator) {
  auto* failures = &obs::Registry::global().counter(
      "duckmesh_auth_failures_total",
      "Requests refused for their credentials (401) or their rights (403), by reason", {"reason"});
  return [&router, &authenticator, failures](Request& request, const Next& next) {
    const RouteInfo& route = router.match(request);
    request.audit_action = route.access.audit_action();
    if (!route.access.needs_credentials()) return next(request);
    auth::Credentials credentials{request.header("Authorization"), request.header("X-API-Key")};
    try {
      request.identity = authenticator.authenticate(credentials);
      auto product = product_of(route.access, request);
      request.scope_product = product.value_or("");
      auth::authorize(*request.identity, route.access, product);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::unauthorized && e.code() != ErrorCode::forbidden) throw;
      std::string reason = reason_of(e);
      failures->with({reason}).inc();
      log::warn(e.code() == ErrorCode::unauthorized ? "authentication failed" : "access denied",
                {{"reason", reason},
                 {"route", request.route},
                 {"subject", request.identity ? request.identity->subject : ""},
                 {"remote", request.remote_address}});
      Response response = Response::from_error(e, request.request_id);
      if (e.code() == ErrorCode::unauthorized) {
        response.header("WWW-Authenticate",
                        credentials.present() ? "Bearer realm=\"duckmesh\", error=\"invalid_token\""
                                              : "Bearer realm=\"duckmesh\"");
      }
      return response;
    }
    return next(request);
  };
}

Middleware audit(auth::AuditLog& log) {
  return [&log](Request& request, const Next& next) {
    if (request.audit_action.empty()) return next(request);
    catalog::AuditEntry entry;
    entry.actor = request.identity ? request.identity->subject : "anonymous";
    entry.action = request.audit_action;
    entry.product = request.scope_product;
    entry.target = std::string(to_string(request.method())) + " " + request.path;
    boost::json::object details{{"request_id", request.request_id}};
    if (request.identity) details["auth"] = auth::to_string(request.identity->method);
    auto finish = [&](std::string outcome, unsigned status) {
      entry.outcome = std::move(outcome);
      details["status"] = status;
      entry.details_json = boost::json::serialize(details);
      log.record(entry);
    };
    try {
      Response response = next(request);
      if (response.status < 400 && response.content_type == "application/json") {
        // Name what was created (a product, a key) when the answer says it.
        boost::system::error_code ec;
        auto body = boost::json::parse(response.body, ec);
        if (!ec && body.is_object()) {
          for (const char* field : {"name", "id"}) {
            if (auto* v = body.as_object().if_contains(field); v && v->is_string())
              details[field] = *v;
          }
        }
      }
      finish(response.status < 400 ? "success" : "http_" + std::to_string(response.status),
             response.status);
      return response;
    } catch (const Error& e) {
      details["message"] = e.what();
      finish(std::string(duckmesh::to_string(e.code())), http_status(e.code()));
      throw;
    } catch (...) {
      finish("internal", 500);
      throw;
    }
  };
}

}  // namespace duckmesh::http
