#include "http/router.hpp"

#include <boost/beast/http/verb.hpp>
#include <map>
#include <set>

namespace duckmesh::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>> literal;
  std::unique_ptr<Node> param;
  std::string param_name;
  std::map<Verb, std::pair<Handler, std::size_t>> handlers;  // handler, index in routes_
  std::string pattern;
};

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Depth-first match: literal segments first, then the parameter branch.
const Router::Node* match_node(const Router::Node* node, const std::vector<std::string>& parts,
                               size_t index, std::map<std::string, std::string>& params) {
  if (index == parts.size()) return node->handlers.empty() ? nullptr : node;
  if (auto it = node->literal.find(parts[index]); it != node->literal.end()) {
    if (auto found = match_node(it->second.get(), parts, index + 1, params)) return found;
  }
  if (node->param) {
    params[node->param_name] = parts[index];
    if (auto found = match_node(node->param.get(), parts, index + 1, params)) return found;
    params.erase(node->param_name);
  }
  return nullptr;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

struct Router::Found {
  const Handler* handler;
  const RouteInfo* route;
};

void Router::add(Verb method, const std::string& pattern, auth::Access access, Handler handler,
                 std::string summary) {
  if (pattern.empty() || pattern.front() != '/') {
    throw Error(ErrorCode::internal, "route pattern must start with '/': " + pattern);
  }
  Node* node = root_.get();
  for (const auto& segment : split_path(pattern)) {
    if (is_param(segment)) {
      std::string name = segment.substr(1, segment.size() - 2);
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        throw Error(ErrorCode::internal, "route '" + pattern + "' names parameter '" + name +
                                             "' where another route names '" + node->param_name +
                                             "'");
      }
      node = node->param.get();
    } else {
      auto& child = node->literal[segment];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  if (node->handlers.count(method)) {
    throw Error(ErrorCode::internal,
                "duplicate route " + std::string(to_string(method)) + " " + pattern);
  }
  node->handlers.emplace(method, std::make_pair(std::move(handler), routes_.size()));
  node->pattern = pattern;
  routes_.push_back({method, pattern, std::move(summary), std::move(access)});
}

Router::Found Router::find(Request& request) const {
  std::map<std::string, std::string> params;
  const Node* node = match_node(root_.get(), split_path(request.path), 0, params);
  if (!node) {
    throw Error(ErrorCode::not_found, "no route for path '" + request.path + "'",
                {{"path", request.path}});
  }
  request.route = node->pattern;
  auto it = node->handlers.find(request.method());
  // HEAD is answered by the GET handler; the server drops the body.
  if (it == node->handlers.end() && request.method() == Verb::head)
    it = node->handlers.find(Verb::get);
  if (it == node->handlers.end()) {
    std::string allow;
    for (const auto& [verb, unused] : node->handlers) {
      if (!allow.empty()) allow += ", ";
      allow += std::string(to_string(verb));
    }
    throw Error(ErrorCode::method_not_allowed,
                "method " + std::string(to_string(request.method())) + " is not allowed on '" +
                    node->pattern + "'; allowed: " + allow,
                {{"allow", allow}, {"method", std::string(to_string(request.method()))}});
  }
  request.path_params = std::move(params);
  return {&it->second.first, &routes_[it->second.second]};
}

const RouteInfo& Router::match(Request& request) const {
  return *find(request).route;
}

Response Router::dispatch(Request& request) const {
  return (*find(request).handler)(request);
}

}  // namespace duckmesh::http
