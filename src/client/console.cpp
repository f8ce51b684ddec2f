#include "client/console.hpp"

#include <unistd.h>

#include <iostream>

namespace duckmesh::client {

Console Console::standard() {
  return Console{std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1, ::isatty(STDIN_FILENO) == 1};
}

}  // namespace duckmesh::client
