#include "auth/api_keys.hpp"

#include <gtest/gtest.h>

#include "catalog/sqlite/sqlite_catalog.hpp"
#include "common/error.hpp"
#include "support/service_process.hpp"

namespace duckmesh::auth {
namespace {

using testing::TempDir;

// Where the secret starts in dmk_<12 hex id>_<secret> (the secret itself may
// contain '_', a base64url character).
constexpr std::size_t kSecretAt = 4 + 12 + 1;

std::string reason(const Error& e) {
  return std::string(e.details().at("reason").as_string());
}

class KeyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog::SqliteCatalogOptions options;
    options.path = (dir_.path() / "catalog.sqlite").string();
    catalog_ = std::make_unique<catalog::SqliteCatalog>(options);
    catalog_->create_product({"alpha", "", "team-a"});
    KeyServiceOptions key_options;
    key_options.clock = [this] { return now_us_; };
    keys_ = std::make_unique<KeyService>(*catalog_, key_options);
  }

  Error refusal(const std::string& token) {
    try {
      keys_->authenticate(token);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "token was accepted: " << token;
    return Error(ErrorCode::internal, "accepted");
  }

  TempDir dir_;
  std::int64_t now_us_ = 1'700'000'000'000'000;
  std::unique_ptr<catalog::SqliteCatalog> catalog_;
  std::unique_ptr<KeyService> keys_;
};

TEST(ApiKeyHash, IsSaltedAndChecksOnlyTheRightSecret) {
  auto a = hash_secret("s3cret");
  auto b = hash_secret("s3cret");
  EXPECT_NE(a, b) << "each hash has its own salt";
  EXPECT_EQ(a.rfind("sha256$", 0), 0u);
  EXPECT_EQ(a.find("s3cret"), std::string::npos);
  EXPECT_TRUE(secret_matches("s3cret", a));
  EXPECT_TRUE(secret_matches("s3cret", b));
  EXPECT_FALSE(secret_matches("s3creT", a));
  EXPECT_FALSE(secret_matches("", a));
  EXPECT_FALSE(secret_matches("s3cret", "md5$00$00"));
  EXPECT_FALSE(secret_matches("s3cret", "sha256$zz$00"));
}

TEST(ApiKeyFormat, ParsesOnlyWellFormedKeys) {
  auto k = parse_key("dmk_0123456789ab_c2VjcmV0");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->id, "0123456789ab");
  EXPECT_EQ(k->secret, "c2VjcmV0");
  EXPECT_FALSE(parse_key("dmk_0123456789ab_"));
  EXPECT_FALSE(parse_key("dmk_0123456789_c2VjcmV0"));    // short id
  EXPECT_FALSE(parse_key("dmk_0123456789AB_c2VjcmV0"));  // upper-case id
  EXPECT_FALSE(parse_key("dmk_0123456789ab_c2Vj!mV0"));  // not base64url
  EXPECT_FALSE(parse_key("xyz_0123456789ab_c2VjcmV0"));
}

TEST_F(KeyServiceTest, AnIssuedKeyAuthenticatesAsItsProductAndRole) {
  auto issued = keys_->create("alpha", Role::writer);
  EXPECT_EQ(issued.token.rfind("dmk_" + issued.record.id + "_", 0), 0u);
  auto stored = catalog_->find_api_key(issued.record.id);
  ASSERT_TRUE(stored);
  std::string secret = issued.token.substr(kSecretAt);
  EXPECT_EQ(stored->secret_hash.find(secret), std::string::npos) << "only a hash is stored";
  EXPECT_EQ(stored->product, "alpha");
  EXPECT_EQ(stored->role, "writer");

  auto identity = keys_->authenticate(issued.token);
  EXPECT_EQ(identity.method, Method::api_key);
  EXPECT_EQ(identity.key_id, issued.record.id);
  EXPECT_EQ(identity.subject, "key:" + issued.record.id);
  EXPECT_EQ(identity.product, "alpha");
  EXPECT_EQ(identity.role, Role::writer);
}

TEST_F(KeyServiceTest, WrongSecretUnknownIdAndMalformedKeysAreRefused) {
  auto issued = keys_->create("alpha", Role::reader);
  // Change the secret's first character (its last one also carries padding
  // bits, and a non-canonical change there reads as malformed instead).
  std::string wrong = issued.token;
  char& c = wrong[kSecretAt];
  c = c == 'A' ? 'B' : 'A';
  auto e = refusal(wrong);
  EXPECT_EQ(e.code(), ErrorCode::unauthorized);
  EXPECT_EQ(reason(e), "wrong_secret");
  auto unknown = refusal("dmk_000000000000_" + issued.token.substr(kSecretAt));
  EXPECT_EQ(reason(unknown), "unknown_key");
  EXPECT_EQ(unknown.message(), e.message()) << "unknown id and wrong secret read the same";
  EXPECT_EQ(reason(refusal("dmk_nonsense")), "malformed_key");
}

TEST_F(KeyServiceTest, ARevokedKeyIsRefusedAndStaysListed) {
  auto issued = keys_->create("alpha", Role::admin);
  keys_->authenticate(issued.token);
  now_us_ += 5'000'000;
  auto revoked = keys_->revoke(issued.record.id);
  EXPECT_EQ(revoked.revoked_unix_us, now_us_);
  EXPECT_EQ(reason(refusal(issued.token)), "revoked_key");
  auto listed = keys_->list("alpha");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].revoked_unix_us);
  // Revoking again keeps the first time; an unknown id is not_found.
  now_us_ += 5'000'000;
  EXPECT_EQ(keys_->revoke(issued.record.id).revoked_unix_us, revoked.revoked_unix_us);
  try {
    keys_->revoke("ffffffffffff");
    FAIL() << "expected not_found";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST_F(KeyServiceTest, LastUseIsWrittenAtMostOncePerInterval) {
  auto issued = keys_->create("alpha", Role::reader);
  EXPECT_FALSE(catalog_->find_api_key(issued.record.id)->last_used_unix_us);
  const auto first = now_us_;
  keys_->authenticate(issued.token);
  EXPECT_EQ(catalog_->find_api_key(issued.record.id)->last_used_unix_us, first);
  now_us_ += 30'000'000;  // within the minute: no write
  keys_->authenticate(issued.token);
  EXPECT_EQ(catalog_->find_api_key(issued.record.id)->last_used_unix_us, first);
  now_us_ += 31'000'000;  // past it
  keys_->authenticate(issued.token);
  EXPECT_EQ(catalog_->find_api_key(issued.record.id)->last_used_unix_us, now_us_);
}

TEST_F(KeyServiceTest, RolesAndProductsMustFit) {
  auto platform = keys_->create("", Role::superadmin);
  EXPECT_TRUE(platform.record.product.empty());
  EXPECT_EQ(keys_->authenticate(platform.token).role, Role::superadmin);
  auto code = [&](const std::string& product, Role role) {
    try {
      keys_->create(product, role);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::internal;
  };
  EXPECT_EQ(code("alpha", Role::superadmin), ErrorCode::invalid_input);
  EXPECT_EQ(code("", Role::admin), ErrorCode::invalid_input);
  EXPECT_EQ(code("nope", Role::reader), ErrorCode::not_found);
  EXPECT_EQ(keys_->list("").size(), 1u);
}

}  // namespace
}  // namespace duckmesh::auth
