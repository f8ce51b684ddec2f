// The OpenAPI 3.1 description of a router, generated from its route table so
// the document cannot drift from what the server answers: one operation per
// (method, pattern), path parameters from the "{name}" segments, the route's
// summary, and the error shape every route may answer with.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "http/router.hpp"

namespace duckmesh::http {

struct ApiInfo {
  std::string title = "DuckMesh";
  std::string version;
  std::string description;
};

boost::json::object openapi_document(const Router& router, const ApiInfo& info);

}  // namespace duckmesh::http
