#include "http/openapi.hpp"

#include <boost/json.hpp>

namespace duckmesh::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string operation_id(const std::string& method, const std::string& pattern) {
  std::string id = method;
  for (char c : pattern) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      id += c;
    } else if (id.back() != '_') {
      id += '_';
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  return id;
}

// A machine-readable name of the access kind, e.g. for tests that walk the
// route table: public, any_identity, superadmin, product:<role>.
std::string access_kind(const auth::Access& access) {
  using Kind = auth::Access::Kind;
  switch (access.kind()) {
    case Kind::public_route: return "public";
    case Kind::any_identity: return "any_identity";
    case Kind::superadmin: return "superadmin";
    default: return "product:" + std::string(auth::to_string(access.role()));
  }
}

}  // namespace

boost::json::object openapi_document(const Router& router, const ApiInfo& info) {
  boost::json::object paths;
  for (const auto& route : router.routes()) {
    auto method = lower(to_string(route.method));
    boost::json::array parameters;
    std::size_t at = 0;
    while ((at = route.pattern.find('{', at)) != std::string::npos) {
      auto end = route.pattern.find('}', at);
      parameters.emplace_back(
          boost::json::object{{"name", route.pattern.substr(at + 1, end - at - 1)},
                              {"in", "path"},
                              {"required", true},
                              {"schema", {{"type", "string"}}}});
      at = end;
    }
    boost::json::object responses{
        {"2XX", {{"description", "Success"}}},
        {"default",
         {{"description", "An error"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
    boost::json::object operation{{"operationId", operation_id(method, route.pattern)},
                                  {"summary", route.summary},
                                  {"responses", std::move(responses)},
                                  {"x-duckmesh-access", route.access.describe()},
                                  {"x-duckmesh-access-kind", access_kind(route.access)}};
    if (route.access.needs_credentials()) {
      operation["security"] =
          boost::json::array{boost::json::object{{"bearer", boost::json::array{}}},
                             boost::json::object{{"apiKey", boost::json::array{}}}};
    } else {
      operation["security"] = boost::json::array{};
    }
    if (!route.access.audit_action().empty())
      operation["x-duckmesh-audit"] = route.access.audit_action();
    if (!parameters.empty()) operation["parameters"] = std::move(parameters);
    if (method == "post" || method == "put" || method == "patch") {
      operation["requestBody"] = {
          {"required", false},
          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    }
    auto& path = paths[route.pattern];
    if (!path.is_object()) path = boost::json::object{};
    path.as_object()[method] = std::move(operation);
  }
  boost::json::object error_schema{{"type", "object"},
                                   {"required", boost::json::array{"error"}},
                                   {"properties",
                                    {{"error",
                                      {{"type", "object"},
                                       {"required", boost::json::array{"code", "message"}},
                                       {"properties",
                                        {{"code", {{"type", "string"}}},
                                         {"message", {{"type", "string"}}},
                                         {"details", {{"type", "object"}}},
                                         {"request_id", {{"type", "string"}}}}}}}}}};
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", info.title}, {"version", info.version}, {"description", info.description}}},
          {"paths", std::move(paths)},
          {"components",
           {{"schemas", {{"Error", std::move(error_schema)}}},
            {"securitySchemes",
             {{"bearer",
               {{"type", "http"},
                {"scheme", "bearer"},
                {"description", "An API key (dmk_<id>_<secret>) or a JWT"}}},
              {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}}}}};
}

}  // namespace duckmesh::http
