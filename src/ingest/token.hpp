// VisibilityToken: what ingest hands back so a client can later ask "is my
// write visible?" or query "at least as new as my write". It encodes the
// product and the bus position the write must reach; it is opaque to clients
// (base64url of "v1:<product>:<position>").
#pragma once

#include <string>

#include "bus/ingest_bus.hpp"

namespace duckmesh::ingest {

struct VisibilityToken {
  std::string product;
  bus::Position position = 0;

  std::string encode() const;
  // invalid_input for anything that is not a token this service made.
  static VisibilityToken decode(const std::string& text);
};

}  // namespace duckmesh::ingest
