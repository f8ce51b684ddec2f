#include "auth/access.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace duckmesh::auth {
namespace {

Identity key(std::string product, Role role) {
  Identity i;
  i.subject = "key:x";
  i.product = std::move(product);
  i.role = role;
  return i;
}

// "ok", or the refusal's reason.
std::string decide(const Identity& who, const Access& access, std::optional<std::string> product) {
  try {
    authorize(who, access, product);
    return "ok";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::forbidden);
    return std::string(e.details().at("reason").as_string());
  }
}

TEST(Authorize, ProductRolesHoldForTheirProductAndRankUpwards) {
  auto reader = key("alpha", Role::reader);
  auto writer = key("alpha", Role::writer);
  auto admin = key("alpha", Role::admin);
  auto ingest = Access::path_product(Role::writer);
  EXPECT_EQ(decide(reader, ingest, "alpha"), "insufficient_role");
  EXPECT_EQ(decide(writer, ingest, "alpha"), "ok");
  EXPECT_EQ(decide(admin, ingest, "alpha"), "ok");
  EXPECT_EQ(decide(admin, ingest, "beta"), "wrong_product");
  EXPECT_EQ(decide(admin, Access::path_product(Role::admin), "alpha"), "ok");
  EXPECT_EQ(decide(writer, Access::path_product(Role::admin), "alpha"), "insufficient_role");
}

TEST(Authorize, SuperadminHoldsEverythingAndProductKeysNeverHoldPlatformRoutes) {
  auto platform = key("", Role::superadmin);
  auto admin = key("alpha", Role::admin);
  for (const auto& access :
       {Access::superadmin(), Access::path_product(Role::admin), Access::query_product(Role::admin),
        Access::fixed_product(Role::writer, "default")}) {
    EXPECT_EQ(decide(platform, access, std::nullopt), "ok") << access.describe();
    EXPECT_EQ(decide(platform, access, "beta"), "ok") << access.describe();
  }
  EXPECT_EQ(decide(admin, Access::superadmin(), std::nullopt), "insufficient_role");
  // A product route that names no product is open to superadmin only.
  EXPECT_EQ(decide(admin, Access::query_product(Role::admin), std::nullopt), "insufficient_role");
  EXPECT_EQ(decide(admin, Access::query_product(Role::admin), "alpha"), "ok");
}

TEST(Authorize, PublicAndAnyIdentityRoutesLetEveryIdentityThrough) {
  auto reader = key("alpha", Role::reader);
  EXPECT_EQ(decide(reader, Access::public_route(), std::nullopt), "ok");
  EXPECT_EQ(decide(reader, Access::any_identity(), std::nullopt), "ok");
  EXPECT_FALSE(Access::public_route().needs_credentials());
  EXPECT_TRUE(Access::any_identity().needs_credentials());
}

TEST(Authorize, AuditedKeepsTheRequirementAndNamesTheAction) {
  auto a = Access::path_product(Role::admin).audited("table.create");
  EXPECT_EQ(a.kind(), Access::Kind::path_product);
  EXPECT_EQ(a.role(), Role::admin);
  EXPECT_EQ(a.audit_action(), "table.create");
  EXPECT_EQ(a.describe(), "admin of {product}");
  EXPECT_TRUE(Access::superadmin().audit_action().empty());
}

TEST(Identity, RolesRoundTripTheirWireNames) {
  for (auto r : {Role::reader, Role::writer, Role::admin, Role::superadmin})
    EXPECT_EQ(role_from_string(to_string(r)), r);
  EXPECT_FALSE(role_from_string("owner"));
  EXPECT_FALSE(role_from_string(""));
}

}  // namespace
}  // namespace duckmesh::auth
