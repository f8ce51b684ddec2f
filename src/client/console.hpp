// Console: where a command writes results (out) and messages (err), and
// whether each is a terminal, which decides between live progress and plain
// lines, and whether the shell prompts.
#pragma once

#include <ostream>

namespace duckmesh::client {

struct Console {
  std::ostream& out;
  std::ostream& err;
  bool err_is_terminal = false;
  bool in_is_terminal = false;

  // std::cout and std::cerr, with terminal flags from isatty().
  static Console standard();
};

// Exit codes shared by the client commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;    // the server refused, failed or could not be reached
inline constexpr int kExitBadInput = 2;  // bad arguments or unreadable local input
inline constexpr int kExitRejected = 3;  // ingest finished, but some events were rejected

}  // namespace duckmesh::client
