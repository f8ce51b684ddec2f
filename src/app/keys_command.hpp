// duckmesh keys create | revoke | list: API keys of a data directory.
//
// Like the maintenance commands they open the data directory's catalog
// directly, so they work with or without a server running on it; a running
// server sees a new or revoked key on its next request. Each change is
// written to the audit log with actor "cli:<login name>".
#pragma once

#include <iosfwd>
#include <string>

#include "app/config.hpp"

namespace duckmesh::app {

struct KeysCommand {
  std::string product;  // create: the key's product (none for superadmin); list: filter
  std::string role;     // create: reader, writer, admin or superadmin
  std::string id;       // revoke
};

// Prints the key once (and how to use it); returns the exit code.
int run_keys_create(const Config& config, const KeysCommand& command, std::ostream& out);
int run_keys_revoke(const Config& config, const KeysCommand& command, std::ostream& out);
// One line a key: id, product, role, created, last used, revoked.
int run_keys_list(const Config& config, const KeysCommand& command, std::ostream& out);

}  // namespace duckmesh::app
