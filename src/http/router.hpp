// Router: maps (method, path) to a handler. Patterns are '/'-separated
// segments; a segment "{name}" matches any one non-empty segment and binds it
// as a path parameter. Literal segments win over parameters, so
// "/v1/products/{p}/tables" and "/v1/products/search" can coexist.
//
// Routes are added before the server starts; route() is then read-only and
// safe to call from many threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace duckmesh::http {

using Handler = std::function<Response(Request&)>;

struct RouteInfo {
  Verb method;
  std::string pattern;
  std::string summary;  // one line, for the route listing and API docs
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Throws internal on a malformed pattern or a duplicate (method, pattern).
  void add(Verb method, const std::string& pattern, Handler handler, std::string summary = {});

  // Finds the handler, binds path parameters and request.route, and calls it.
  // not_found when no pattern matches the path; method_not_allowed (details
  // "allow": "GET, POST") when the path matches but not with this method.
  Response dispatch(Request& request) const;

  const std::vector<RouteInfo>& routes() const { return routes_; }

  struct Node;  // a path segment of the route tree (router.cpp)

 private:
  std::unique_ptr<Node> root_;
  std::vector<RouteInfo> routes_;
};

}  // namespace duckmesh::http
