// The request path as a chain: each middleware does one thing to a request
// and passes it on by calling `next`. Built once at start, then read-only.
//
//   request id -> access log -> metrics -> errors -> (router)
#pragma once

#include <functional>
#include <vector>

#include "http/message.hpp"
#include "http/router.hpp"

namespace duckmesh::http {

using Next = std::function<Response(Request&)>;
using Middleware = std::function<Response(Request&, const Next&)>;

// Composes middlewares (outermost first) in front of `handler`.
Handler chain(std::vector<Middleware> middlewares, Handler handler);

// Takes X-Request-Id from the client when it is 1-128 chars of [A-Za-z0-9._-],
// otherwise makes one; echoes it as X-Request-Id and scopes log lines to it.
Middleware request_id();

// One JSON log line per request: method, path, route, status, bytes, ms.
Middleware access_log();

// duckmesh_http_requests_total{route,method,status} and
// duckmesh_http_request_duration_seconds{route,method}. Unmatched paths count
// under route="unmatched" so scanners cannot blow up label cardinality.
Middleware metrics();

// Turns duckmesh::Error and any other exception into the error body; an
// unexpected exception is logged and answered as `internal`.
Middleware errors();

// A fresh random request id (32 hex chars).
std::string new_request_id();

}  // namespace duckmesh::http
