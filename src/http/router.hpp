// Router: maps (method, path) to a handler. Patterns are '/'-separated
// segments; a segment "{name}" matches any one non-empty segment and binds it
// as a path parameter. Literal segments win over parameters, so
// "/v1/products/{p}/tables" and "/v1/products/search" can coexist.
//
// Every route declares what it requires of its caller (auth::Access): the
// parameter has no default, so a route cannot be added without one.
//
// Routes are added before the server starts; match() and dispatch() are then
// read-only and safe to call from many threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/access.hpp"
#include "http/message.hpp"

namespace duckmesh::http {

using Handler = std::function<Response(Request&)>;

struct RouteInfo {
  Verb method;
  std::string pattern;
  std::string summary;  // one line, for the route listing and API docs
  auth::Access access;  // what a caller needs
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Throws internal on a malformed pattern or a duplicate (method, pattern).
  void add(Verb method, const std::string& pattern, auth::Access access, Handler handler,
           std::string summary = {});

  // Finds the route, binds path parameters and request.route, and returns
  // the route's declaration. not_found when no pattern matches the path;
  // method_not_allowed (details "allow": "GET, POST") when the path matches
  // but not with this method.
  const RouteInfo& match(Request& request) const;

  // match(), then calls the route's handler.
  Response dispatch(Request& request) const;

  const std::vector<RouteInfo>& routes() const { return routes_; }

  struct Node;  // a path segment of the route tree (router.cpp)

 private:
  struct Found;
  Found find(Request& request) const;

  std::unique_ptr<Node> root_;
  std::vector<RouteInfo> routes_;
};

}  // namespace duckmesh::http
