// onto-serve: the reference ontology server that ships with DuckMesh, for
// development and tests.
//
// Serves the *.json files of a folder (read on every request, so editing a
// file publishes a new version):
//   GET /schemas          ["disbursements", "projects", ...] (file names without .json)
//   GET /schemas/{id}     the file's content (404 when absent)
//   GET /health           {"status": "healthy"}
//
// Faults, to exercise clients against a real HTTP server: a latency before
// every answer, a share of answers replaced by an error status, and "down"
// (the listener is closed, so connections are refused, and reopened on the
// same port when it comes back). They are set by flags at start and changed
// at run time on a separate control port:
//   GET  /faults   the current faults
//   POST /faults   {"latency_ms": 0, "error_rate": 0.0, "error_status": 500, "down": false}
//                  (fields left out keep their value)
#pragma once

#include <cstdint>
#include <string>

namespace duckmesh::app {

struct OntoServeOptions {
  std::string dir = "examples/ontology";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8001;       // 0: any free port
  std::uint16_t control_port = 0;  // 0: any free port
  std::int64_t latency_ms = 0;
  double error_rate = 0;  // 0..1 of answers replaced by error_status
  unsigned error_status = 500;
  bool down = false;
};

// Prints "onto-serve listening on http://HOST:PORT" and "onto-serve control on
// http://HOST:PORT", then serves until SIGTERM/SIGINT. Returns the exit code.
int onto_serve(const OntoServeOptions& options);

}  // namespace duckmesh::app
