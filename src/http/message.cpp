#include "http/message.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "common/json_text.hpp"

namespace duckmesh::http {

std::string_view Request::header(std::string_view name) const {
  auto it = raw.find(boost::beast::string_view(name.data(), name.size()));
  if (it == raw.end()) return {};
  auto v = it->value();
  return {v.data(), v.size()};
}

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::int64_t Request::int_query_param(const std::string& name, std::int64_t fallback,
                                      std::int64_t min, std::int64_t max) const {
  auto v = query_param(name);
  if (!v) return fallback;
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size() || out < min || out > max) {
    throw Error(ErrorCode::invalid_input,
                "query parameter '" + name + "' must be a whole number from " +
                    std::to_string(min) + " to " + std::to_string(max),
                {{"field", name}, {"value", *v}});
  }
  return out;
}

bool Request::bool_query_param(const std::string& name, bool fallback) const {
  auto v = query_param(name);
  if (!v) return fallback;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  throw Error(ErrorCode::invalid_input, "query parameter '" + name + "' must be true or false",
              {{"field", name}, {"value", *v}});
}

const std::string& Request::path_param(const std::string& name) const {
  auto it = path_params.find(name);
  if (it == path_params.end()) {
    throw Error(ErrorCode::internal, "route '" + route + "' has no path parameter '" + name + "'");
  }
  return it->second;
}

boost::json::value Request::json_body() const {
  if (raw.body().empty()) {
    throw Error(ErrorCode::invalid_input, "request body is empty; a JSON document is required");
  }
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 64;
  auto value = boost::json::parse(raw.body(), ec, {}, opts);
  if (ec) {
    throw Error(ErrorCode::invalid_input, "request body is not valid JSON: " + ec.message(),
                {{"reason", ec.message()}});
  }
  return value;
}

Response Response::json(unsigned status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = to_json_text(body);
  return r;
}

Response Response::text(unsigned status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::from_error(const Error& error, std::string_view request_id) {
  Response r = json(http_status(error.code()), error_body(error, request_id));
  if (error.code() == ErrorCode::method_not_allowed) {
    if (auto it = error.details().find("allow");
        it != error.details().end() && it->value().is_string()) {
      r.header("Allow", std::string(it->value().as_string()));
    }
  }
  if (auto it = error.details().find("retry_after_seconds");
      it != error.details().end() && it->value().is_int64()) {
    r.header("Retry-After", std::to_string(it->value().as_int64()));
  }
  return r;
}

void parse_target(Request& request) {
  auto target = request.raw.target();
  auto parsed = boost::urls::parse_origin_form(std::string_view(target.data(), target.size()));
  if (!parsed) {
    throw Error(ErrorCode::invalid_input, "malformed request target: " + parsed.error().message());
  }
  request.path = parsed->path();
  for (auto param : parsed->params()) {
    request.query.emplace(param.key, param.has_value ? param.value : std::string());
  }
}

}  // namespace duckmesh::http
