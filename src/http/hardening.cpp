#include "http/hardening.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string_view>

namespace duckmesh::http {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The host part of a Host header value: "[::1]:8080" -> "[::1]",
// "Example.com:443" -> "example.com".
std::string host_without_port(std::string_view value) {
  if (!value.empty() && value.front() == '[') {
    auto close = value.find(']');
    return lower(close == std::string_view::npos ? value : value.substr(0, close + 1));
  }
  auto colon = value.rfind(':');
  return lower(colon == std::string_view::npos ? value : value.substr(0, colon));
}

bool valid_host_entry(std::string_view entry) {
  if (entry.empty() || entry.size() > 253) return false;
  if (entry.front() == '[') return entry.back() == ']' && entry.size() > 2;
  if (entry.starts_with("*.")) entry.remove_prefix(2);
  if (entry.empty()) return false;
  return std::all_of(entry.begin(), entry.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool host_matches(const std::string& host, const std::string& entry) {
  if (entry.starts_with("*.")) {
    std::string_view suffix = std::string_view(entry).substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return host == entry;
}

bool valid_origin_entry(std::string_view entry) {
  if (entry == "*") return true;
  std::string_view rest;
  if (entry.starts_with("https://")) {
    rest = entry.substr(8);
  } else if (entry.starts_with("http://")) {
    rest = entry.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' ||
           c == '[' || c == ']';
  });
}

bool has_header(const Response& response, std::string_view name) {
  return std::any_of(response.headers.begin(), response.headers.end(),
                     [&](const auto& h) { return lower(h.first) == lower(name); });
}

void set_default(Response& response, std::string name, std::string value) {
  if (!has_header(response, name)) response.header(std::move(name), std::move(value));
}

constexpr std::string_view kAllowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE";
constexpr std::string_view kAllowedHeaders =
    "Authorization, Content-Type, Content-Encoding, Idempotency-Key, X-API-Key, X-Request-Id";
constexpr std::string_view kExposedHeaders =
    "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Location";

}  // namespace

Middleware trusted_hosts(std::vector<std::string> hosts) {
  for (auto& entry : hosts) {
    entry = lower(entry);
    if (!valid_host_entry(entry)) {
      throw Error(ErrorCode::invalid_input,
                  "trusted host '" + entry +
                      "' is not a host name, '*.' followed by a domain, or a bracketed IPv6 "
                      "address");
    }
  }
  auto list = std::make_shared<const std::vector<std::string>>(std::move(hosts));
  return [list](Request& request, const Next& next) {
    if (list->empty()) return next(request);
    std::string host = host_without_port(request.header("Host"));
    bool trusted = !host.empty() && std::any_of(list->begin(), list->end(), [&](const auto& e) {
      return host_matches(host, e);
    });
    if (!trusted) {
      throw Error(ErrorCode::invalid_input,
                  host.empty() ? std::string("the request has no Host header")
                               : "host '" + host + "' is not served here (see trusted_hosts)",
                  {{"host", host}});
    }
    return next(request);
  };
}

Middleware cors(std::vector<std::string> allowed) {
  for (auto& entry : allowed) {
    entry = lower(entry);
    if (!valid_origin_entry(entry)) {
      throw Error(ErrorCode::invalid_input,
                  "CORS origin '" + entry +
                      "' must be '*' or scheme://host[:port] with scheme http or https and no "
                      "path");
    }
  }
  auto list = std::make_shared<const std::vector<std::string>>(std::move(allowed));
  return [list](Request& request, const Next& next) {
    std::string_view origin = request.header("Origin");
    bool preflight = request.method() == Verb::options &&
                     !request.header("Access-Control-Request-Method").empty();
    if (origin.empty()) return next(request);
    std::string wanted = lower(origin);
    bool any = std::find(list->begin(), list->end(), "*") != list->end();
    bool allowed_origin = any || std::find(list->begin(), list->end(), wanted) != list->end();
    if (!allowed_origin) {
      if (preflight) {
        throw Error(ErrorCode::forbidden,
                    "origin '" + std::string(origin) + "' may not call this API (see cors_origins)",
                    {{"origin", std::string(origin)}});
      }
      return next(request);
    }
    Response response;
    if (preflight) {
      response.status = 204;
      response.content_type = "text/plain";
      response.header("Access-Control-Allow-Methods", std::string(kAllowedMethods));
      response.header("Access-Control-Allow-Headers", std::string(kAllowedHeaders));
      response.header("Access-Control-Max-Age", "600");
    } else {
      response = next(request);
      response.header("Access-Control-Expose-Headers", std::string(kExposedHeaders));
    }
    response.header("Access-Control-Allow-Origin", any ? std::string("*") : std::string(origin));
    if (!any) response.header("Vary", "Origin");
    return response;
  };
}

Middleware security_headers(bool tls) {
  return [tls](Request& request, const Next& next) {
    Response response = next(request);
    set_default(response, "X-Content-Type-Options", "nosniff");
    set_default(response, "Referrer-Policy", "no-referrer");
    if (response.content_type.starts_with("text/html")) {
      set_default(response, "Content-Security-Policy",
                  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
                  "'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                  "frame-ancestors 'none'");
      set_default(response, "X-Frame-Options", "DENY");
    }
    if (tls) set_default(response, "Strict-Transport-Security", "max-age=31536000");
    return response;
  };
}

}  // namespace duckmesh::http
