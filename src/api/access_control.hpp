// /v1/audit and /v1/products/{product}/keys: the audit log and a product's
// API keys over HTTP (platform keys are made with `duckmesh keys create`).
#pragma once

#include "auth/api_keys.hpp"
#include "auth/audit.hpp"
#include "http/router.hpp"

namespace duckmesh::api {

struct AccessControlContext {
  auth::KeyService* keys = nullptr;
  auth::AuditLog* audit = nullptr;
};

void add_access_control_routes(http::Router& router, AccessControlContext context);

// ?since=: Unix seconds, or an RFC 3339 UTC time (2025-01-31T12:00:00Z),
// as microseconds since the epoch; invalid_input otherwise.
std::int64_t parse_since(const std::string& text);

}  // namespace duckmesh::api
