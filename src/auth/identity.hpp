// Who a request acts as, and what it may do.
//
// Roles are ordered: reader < writer < admin < superadmin. A product role
// (reader, writer, admin) holds for exactly one product; superadmin is a
// platform role with no product and holds for every product.
//   reader     query and read metadata of the product
//   writer     reader + ingest (and /ops writes)
//   admin      writer + tables, schema, keys, maintenance, audit log
//   superadmin everything, including creating products and node settings
//
// Plain values: safe to copy and share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace duckmesh::auth {

enum class Role { reader = 1, writer = 2, admin = 3, superadmin = 4 };

std::string_view to_string(Role role);
// nullopt for anything but the four wire names.
std::optional<Role> role_from_string(std::string_view text);

// How an identity was established.
enum class Method { api_key, jwt, insecure };
std::string_view to_string(Method method);

// The authenticated caller. A later middleware (rate limits, quotas) keys on
// key_id / subject and product.
struct Identity {
  Method method = Method::api_key;
  std::string subject;  // "key:<id>", "jwt:<sub>" or "anonymous"
  std::string key_id;   // the API key id; empty for JWT and insecure mode
  std::string product;  // empty for superadmin
  Role role = Role::reader;

  // Whether this identity holds at least `needed` for `product_name`.
  // Superadmin holds everything; a product role holds only for its product
  // and never superadmin.
  bool holds(Role needed, std::string_view product_name) const;
  bool superadmin() const { return role == Role::superadmin; }
};

}  // namespace duckmesh::auth
