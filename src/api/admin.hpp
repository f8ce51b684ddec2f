// /admin/...: operator actions on a running node.
#pragma once

#include "http/router.hpp"

namespace duckmesh::api {

// GET /admin/logging/level and POST /admin/logging/level {"level": "debug"}.
void add_admin_routes(http::Router& router);

}  // namespace duckmesh::api
