// `duckmesh serve`: builds every part of the service from a Config and runs
// it until SIGTERM/SIGINT.
#pragma once

#include "app/config.hpp"

namespace duckmesh::app {

// Returns the process exit code.
int serve(const Config& config);

}  // namespace duckmesh::app
