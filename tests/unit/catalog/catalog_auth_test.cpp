// API keys and audit entries (migration 3), against every catalog backend
// (CatalogAuth/<case>/sqlite|postgres).
#include <gtest/gtest.h>

#include "catalog_backends.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

using testing::Backend;
using testing::CatalogStore;

class CatalogAuth : public ::testing::TestWithParam<Backend> {
 protected:
  CatalogStore store_{GetParam()};
};

ApiKeyRecord key(std::string id, std::string product, std::string role) {
  ApiKeyRecord k;
  k.id = std::move(id);
  k.product = std::move(product);
  k.role = std::move(role);
  k.secret_hash = "sha256$00$00";
  k.created_unix_us = 1000;
  return k;
}

TEST_P(CatalogAuth, KeysAreStoredFoundListedRevokedAndTouched) {
  auto opened = store_.open();
  CatalogRepo& catalog = *opened;
  catalog.create_api_key(key("aaaaaaaaaaaa", "alpha", "reader"));
  catalog.create_api_key(key("bbbbbbbbbbbb", "", "superadmin"));
  auto found = catalog.find_api_key("aaaaaaaaaaaa");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->product, "alpha");
  EXPECT_EQ(found->role, "reader");
  EXPECT_EQ(found->secret_hash, "sha256$00$00");
  EXPECT_FALSE(found->last_used_unix_us);
  EXPECT_FALSE(found->revoked_unix_us);
  EXPECT_EQ(catalog.find_api_key("bbbbbbbbbbbb")->product, "");
  EXPECT_FALSE(catalog.find_api_key("cccccccccccc"));
  EXPECT_EQ(catalog.list_api_keys("").size(), 2u);
  EXPECT_EQ(catalog.list_api_keys("alpha").size(), 1u);
  EXPECT_TRUE(catalog.list_api_keys("beta").empty());

  catalog.touch_api_key("aaaaaaaaaaaa", 5000);
  catalog.touch_api_key("aaaaaaaaaaaa", 4000);  // never goes back
  EXPECT_EQ(catalog.find_api_key("aaaaaaaaaaaa")->last_used_unix_us, 5000);
  EXPECT_TRUE(catalog.revoke_api_key("aaaaaaaaaaaa", 6000));
  EXPECT_TRUE(catalog.revoke_api_key("aaaaaaaaaaaa", 7000));
  EXPECT_EQ(catalog.find_api_key("aaaaaaaaaaaa")->revoked_unix_us, 6000);
  EXPECT_FALSE(catalog.revoke_api_key("cccccccccccc", 6000));

  // Survives reopening.
  opened.reset();
  auto again = store_.open();
  EXPECT_EQ(again->find_api_key("aaaaaaaaaaaa")->revoked_unix_us, 6000);
}

TEST_P(CatalogAuth, RefusesDuplicateKeysUnknownRolesAndProductRoleMismatch) {
  auto opened = store_.open();
  CatalogRepo& catalog = *opened;
  catalog.create_api_key(key("aaaaaaaaaaaa", "alpha", "admin"));
  auto code = [&](const ApiKeyRecord& k) {
    try {
      catalog.create_api_key(k);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::internal;
  };
  EXPECT_EQ(code(key("aaaaaaaaaaaa", "alpha", "reader")), ErrorCode::conflict);
  EXPECT_EQ(code(key("dddddddddddd", "alpha", "owner")), ErrorCode::invalid_input);
  EXPECT_EQ(code(key("dddddddddddd", "alpha", "superadmin")), ErrorCode::invalid_input);
  EXPECT_EQ(code(key("dddddddddddd", "", "writer")), ErrorCode::invalid_input);
  EXPECT_EQ(catalog.list_api_keys("").size(), 1u);
}

TEST_P(CatalogAuth, AuditEntriesComeBackNewestFirstByProductAndTime) {
  auto opened = store_.open();
  CatalogRepo& catalog = *opened;
  auto add = [&](std::int64_t at, std::string product, std::string action) {
    AuditEntry e;
    e.at_unix_us = at;
    e.actor = "key:abc";
    e.action = std::move(action);
    e.product = std::move(product);
    e.target = "POST /x";
    e.outcome = "success";
    return catalog.append_audit(e);
  };
  auto first = add(100, "alpha", "table.create");
  auto second = add(200, "beta", "table.drop");
  auto third = add(300, "", "product.create");
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  auto all = catalog.list_audit("", 0, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].action, "product.create");
  EXPECT_EQ(all[0].product, "");
  EXPECT_EQ(all[2].action, "table.create");
  auto alpha = catalog.list_audit("alpha", 0, 10);
  ASSERT_EQ(alpha.size(), 1u);
  EXPECT_EQ(alpha[0].actor, "key:abc");
  EXPECT_EQ(alpha[0].details_json, "{}");
  EXPECT_EQ(catalog.list_audit("", 200, 10).size(), 2u);
  EXPECT_EQ(catalog.list_audit("", 0, 1).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogAuth,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::backend_name);

}  // namespace
}  // namespace duckmesh::catalog
