// How every command reports a failure: one place, so ingest, query and the
// shell print the same thing for the same error and agree on exit codes.
#pragma once

#include "client/console.hpp"

namespace duckmesh::client {

// Prints the exception being handled — a server error (with its details and
// request id), a transport or protocol failure, or a duckmesh::Error — to
// console.err after flushing console.out, and returns its exit code
// (kExitBadInput for invalid_input, kExitFailed otherwise). Any other
// exception is rethrown. REQUIRES: called from inside a catch block.
int report_failure(Console& console);

}  // namespace duckmesh::client
