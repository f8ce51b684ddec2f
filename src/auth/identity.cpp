#include "auth/identity.hpp"

namespace duckmesh::auth {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::reader: return "reader";
    case Role::writer: return "writer";
    case Role::admin: return "admin";
    case Role::superadmin: return "superadmin";
  }
  return "reader";
}

std::optional<Role> role_from_string(std::string_view text) {
  for (Role r : {Role::reader, Role::writer, Role::admin, Role::superadmin}) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

std::string_view to_string(Method method) {
  switch (method) {
    case Method::api_key: return "api_key";
    case Method::jwt: return "jwt";
    case Method::insecure: return "insecure";
  }
  return "api_key";
}

bool Identity::holds(Role needed, std::string_view product_name) const {
  if (role == Role::superadmin) return true;
  if (needed == Role::superadmin) return false;
  return !product.empty() && product == product_name && role >= needed;
}

}  // namespace duckmesh::auth
