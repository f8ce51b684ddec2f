// Access: what a route requires of its caller, declared with the route.
//
// Every route states one of:
//   public_route()              anyone, no credentials looked at
//   any_identity()              any valid credentials; the handler narrows
//                               what it shows to the caller (lists)
//   superadmin()                platform key or token only
//   path_product(role)          `role` of the product named by {product}
//   query_product(role, name)   `role` of the product named by ?name=; when
//                               the parameter is absent only superadmin passes
//   fixed_product(role, name)   `role` of one product known when the route is
//                               added (the default product's /ops, /admin)
// and optionally an audit action name: the request is then written to the
// audit log with its outcome.
//
// There is no default constructor, so a route cannot be added without one.
#pragma once

#include <optional>
#include <string>

#include "auth/identity.hpp"

namespace duckmesh::auth {

class Access {
 public:
  enum class Kind {
    public_route,
    any_identity,
    superadmin,
    path_product,
    query_product,
    fixed_product
  };

  static Access public_route() { return Access(Kind::public_route, Role::reader, ""); }
  static Access any_identity() { return Access(Kind::any_identity, Role::reader, ""); }
  static Access superadmin() { return Access(Kind::superadmin, Role::superadmin, ""); }
  static Access path_product(Role role) { return Access(Kind::path_product, role, "product"); }
  static Access query_product(Role role, std::string parameter = "product") {
    return Access(Kind::query_product, role, std::move(parameter));
  }
  static Access fixed_product(Role role, std::string product) {
    return Access(Kind::fixed_product, role, std::move(product));
  }

  // The same requirement, and the request is audited as `action`.
  Access audited(std::string action) const {
    Access copy = *this;
    copy.audit_action_ = std::move(action);
    return copy;
  }

  Kind kind() const { return kind_; }
  Role role() const { return role_; }
  // The path or query parameter naming the product, or the fixed product.
  const std::string& product_source() const { return source_; }
  const std::string& audit_action() const { return audit_action_; }
  bool needs_credentials() const { return kind_ != Kind::public_route; }

  // One line for people and API docs, e.g. "admin of {product}", "public".
  std::string describe() const;

 private:
  Access(Kind kind, Role role, std::string source)
      : kind_(kind), role_(role), source_(std::move(source)) {}

  Kind kind_;
  Role role_;
  std::string source_;
  std::string audit_action_;
};

// Whether `identity` may call a route declared with `access` acting on
// `product` (nullopt: the request names none). Returns normally when it may;
// throws Error forbidden with details.reason wrong_product or
// insufficient_role otherwise. A product route whose product the request does
// not name is open to superadmin only. The same answer is given whether the
// product exists or not, so a caller learns nothing of other products.
void authorize(const Identity& identity, const Access& access,
               const std::optional<std::string>& product);

}  // namespace duckmesh::auth
