// Middlewares that keep a public HTTP surface safe to expose: which Host
// names are served, which browser origins may call the API (CORS), and the
// security headers every response carries.
//
// Order in the chain: trusted_hosts and cors come before authentication, so
// that a request for another host is refused before anything else runs and
// a CORS preflight (which browsers send without credentials) is answered
// without needing any.
#pragma once

#include <string>
#include <vector>

#include "http/middleware.hpp"

namespace duckmesh::http {

// Serves only requests whose Host header names one of `hosts` (the port, if
// any, is ignored; "*.example.com" matches any subdomain of example.com but
// not example.com itself). Anything else, including a request with no Host,
// answers 400 invalid_input naming the host. An empty list serves any host.
// Entries are lower-cased host names or IP literals (IPv6 in brackets).
// Throws invalid_input for an entry that is not one.
Middleware trusted_hosts(std::vector<std::string> hosts);

// CORS for the origins in `allowed` ("https://app.example.com", exact
// scheme://host[:port]; "*" allows every origin). For an allowed Origin the
// response carries Access-Control-Allow-Origin (the origin itself, with
// Vary: Origin) and exposes the headers a client needs (X-Request-Id,
// Retry-After, RateLimit-*); a preflight (OPTIONS with
// Access-Control-Request-Method) answers 204 with the allowed methods and
// request headers without reaching a handler. A preflight from an origin not
// allowed answers 403 forbidden; other requests from such an origin pass
// without CORS headers, so the browser keeps their answers from the page.
// An empty list turns CORS off: no CORS headers at all, and preflights are
// refused like any disallowed origin. Throws invalid_input for a malformed
// entry.
Middleware cors(std::vector<std::string> allowed);

// Headers on every response: X-Content-Type-Options: nosniff and
// Referrer-Policy: no-referrer; on HTML pages also a Content-Security-Policy
// that allows only the page's own origin (plus its inline script and style),
// no framing (frame-ancestors 'none', X-Frame-Options: DENY), no plugins;
// with `tls`, Strict-Transport-Security too. A header the handler set
// itself is left as it is.
Middleware security_headers(bool tls);

}  // namespace duckmesh::http
