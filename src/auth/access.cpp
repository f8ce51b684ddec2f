#include "auth/access.hpp"

#include "common/error.hpp"

namespace duckmesh::auth {

std::string Access::describe() const {
  std::string role(to_string(role_));
  switch (kind_) {
    case Kind::public_route: return "public";
    case Kind::any_identity:
      return "any valid credentials (results narrowed to the caller's products)";
    case Kind::superadmin: return "superadmin";
    case Kind::path_product: return role + " of {" + source_ + "}";
    case Kind::query_product: return role + " of ?" + source_ + "= (superadmin without it)";
    case Kind::fixed_product: return role + " of product '" + source_ + "'";
  }
  return "superadmin";
}

void authorize(const Identity& identity, const Access& access,
               const std::optional<std::string>& product) {
  using Kind = Access::Kind;
  std::string held(to_string(identity.role));
  if (!identity.product.empty()) held += " of product '" + identity.product + "'";
  auto insufficient = [&](const std::string& needed) {
    return Error(ErrorCode::forbidden,
                 "this request needs " + needed + "; the credentials hold " + held,
                 {{"reason", "insufficient_role"}, {"needed", needed}});
  };
  switch (access.kind()) {
    case Kind::public_route:
    case Kind::any_identity: return;
    case Kind::superadmin:
      if (!identity.superadmin()) throw insufficient("superadmin");
      return;
    case Kind::path_product:
    case Kind::query_product:
    case Kind::fixed_product: break;
  }
  if (identity.superadmin()) return;
  std::string needed(to_string(access.role()));
  if (!product || product->empty()) {
    throw insufficient("superadmin (the request names no product; " + needed +
                       " of a product would need ?" + access.product_source() + "=)");
  }
  if (identity.product != *product) {
    throw Error(ErrorCode::forbidden, "the credentials are not for product '" + *product + "'",
                {{"reason", "wrong_product"}, {"product", *product}});
  }
  if (!identity.holds(access.role(), *product)) {
    throw insufficient(needed + " of product '" + *product + "'");
  }
}

}  // namespace duckmesh::auth
