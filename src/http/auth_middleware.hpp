// The authentication, authorization and audit links of the request chain:
//
//   request id -> access log -> metrics -> errors -> authorize -> audit -> (router)
//
// authorize matches the route (binding request.route and path parameters,
// so metrics and logs see the route even for refused requests), and unless
// the route is public authenticates the credentials, resolves the product
// the route acts on and checks the route's Access. A refusal is answered
// right here: 401 with WWW-Authenticate: Bearer, or 403, both with the usual
// error body, and counted in duckmesh_auth_failures_total{reason}. The router
// then matches the route again to call its handler (a few map lookups).
//
// audit writes an entry for every request of a route declared audited: who
// (key id or JWT subject), what (the action), target (method and path),
// product, outcome ("success" or the error code), request id.
#pragma once

#include "auth/audit.hpp"
#include "auth/authenticator.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"

namespace duckmesh::http {

// `router` and `authenticator` must outlive the chain.
Middleware authorize(const Router& router, const auth::Authenticator& authenticator);

// `log` must outlive the chain.
Middleware audit(auth::AuditLog& log);

}  // namespace duckmesh::http
