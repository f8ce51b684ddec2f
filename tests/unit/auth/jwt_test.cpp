#include "auth/jwt.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "support/jwt.hpp"

namespace duckmesh::auth {
namespace {

using testing::hs256_jwt;
using testing::RsaKey;

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kSecret = "an-hs256-secret-of-at-least-32-bytes!";

boost::json::object claims(std::string role = "reader", std::string product = "alpha") {
  boost::json::object c{{"sub", "alice"},    {"iss", "https://issuer.example"},
                        {"aud", "duckmesh"}, {"exp", kNow + 600},
                        {"iat", kNow - 10},  {"duckmesh_role", role}};
  if (!product.empty()) c["duckmesh_product"] = product;
  return c;
}

JwtOptions hs_options() {
  JwtOptions o;
  o.hs256_secret = kSecret;
  o.audience = "duckmesh";
  o.issuer = "https://issuer.example";
  return o;
}

std::string refusal(const JwtVerifier& v, const std::string& token, std::int64_t now = kNow) {
  try {
    v.verify(token, now);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unauthorized);
    return std::string(e.details().at("reason").as_string());
  }
  return "accepted";
}

TEST(Jwt, AValidHs256TokenGivesItsSubjectProductAndRole) {
  JwtVerifier v(hs_options());
  auto identity = v.verify(hs256_jwt(claims("writer"), kSecret), kNow);
  EXPECT_EQ(identity.method, Method::jwt);
  EXPECT_EQ(identity.subject, "jwt:alice");
  EXPECT_EQ(identity.product, "alpha");
  EXPECT_EQ(identity.role, Role::writer);
  EXPECT_TRUE(identity.key_id.empty());
}

TEST(Jwt, TimeClaimsAreCheckedWithLeeway) {
  JwtVerifier v(hs_options());
  auto c = claims();
  c["exp"] = kNow - 10;  // inside the 30 s leeway
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "accepted");
  c["exp"] = kNow - 31;
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "expired");
  c = claims();
  c["nbf"] = kNow + 20;
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "accepted");
  c["nbf"] = kNow + 120;
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "not_yet_valid");
  c = claims();
  c.erase("exp");
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "bad_claims");
}

TEST(Jwt, AudienceAndIssuerMustMatchWhenConfigured) {
  JwtVerifier v(hs_options());
  auto c = claims();
  c["aud"] = "someone-else";
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "wrong_audience");
  c["aud"] = boost::json::array{"other", "duckmesh"};
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "accepted");
  c.erase("aud");
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "wrong_audience");
  c = claims();
  c["iss"] = "https://evil.example";
  EXPECT_EQ(refusal(v, hs256_jwt(c, kSecret)), "wrong_issuer");
  // Without configured aud/iss, neither is looked at.
  JwtOptions loose;
  loose.hs256_secret = kSecret;
  JwtVerifier l(loose);
  EXPECT_EQ(refusal(l, hs256_jwt(c, kSecret)), "accepted");
}

TEST(Jwt, SignatureAlgNoneAndMismatchedAlgsAreRefused) {
  JwtVerifier v(hs_options());
  EXPECT_EQ(refusal(v, hs256_jwt(claims(), "another-secret-of-enough-length-xx")), "bad_signature");
  auto token = hs256_jwt(claims(), kSecret);
  auto tampered = token;
  tampered[token.find('.') + 3] ^= 1;  // a payload byte
  EXPECT_NE(refusal(v, tampered), "accepted");
  // alg none: header says none, no signature.
  auto none = testing::jwt_signing_input({{"alg", "none"}}, claims()) + ".";
  EXPECT_EQ(refusal(v, none), "alg_not_allowed");
  EXPECT_EQ(refusal(v, hs256_jwt(claims(), kSecret, {{"alg", "HS512"}})), "alg_not_allowed");
  // RS256 header when only an HS256 secret is configured.
  RsaKey rsa;
  EXPECT_EQ(refusal(v, rsa.sign(claims())), "alg_not_allowed");
  // HS256 signed with the RSA public key text when only RS256 is configured:
  // the key-confusion attack.
  JwtOptions rs;
  rs.public_key_pem = rsa.public_pem();
  JwtVerifier r(rs);
  EXPECT_EQ(refusal(r, hs256_jwt(claims(), rs.public_key_pem)), "alg_not_allowed");
  EXPECT_EQ(refusal(r, rsa.sign(claims())), "accepted");
  RsaKey other;
  EXPECT_EQ(refusal(r, other.sign(claims())), "bad_signature");
}

TEST(Jwt, MalformedTokensAreRefused) {
  JwtVerifier v(hs_options());
  EXPECT_EQ(refusal(v, "abc"), "malformed_token");
  EXPECT_EQ(refusal(v, "a.b"), "malformed_token");
  EXPECT_EQ(refusal(v, "a.b.c.d"), "malformed_token");
  EXPECT_EQ(refusal(v, "!!.??.##"), "malformed_token");
  EXPECT_EQ(refusal(v, testing::b64url("[1]") + "." + testing::b64url("{}") + ".x"),
            "malformed_token");
}

TEST(Jwt, RoleAndProductClaimsMustFit) {
  JwtVerifier v(hs_options());
  EXPECT_EQ(refusal(v, hs256_jwt(claims("owner"), kSecret)), "bad_claims");
  EXPECT_EQ(refusal(v, hs256_jwt(claims("reader", ""), kSecret)), "bad_claims");
  EXPECT_EQ(refusal(v, hs256_jwt(claims("superadmin", "alpha"), kSecret)), "bad_claims");
  auto admin = v.verify(hs256_jwt(claims("superadmin", ""), kSecret), kNow);
  EXPECT_EQ(admin.role, Role::superadmin);
  EXPECT_TRUE(admin.product.empty());
}

TEST(Jwt, JwksKeysAreChosenByKid) {
  RsaKey one, two;
  boost::json::object jwks{
      {"keys",
       boost::json::array{one.jwk("one"),
                          two.jwk("two"),
                          {{"kty", "oct"}, {"kid", "shared"}, {"k", testing::b64url(kSecret)}}}}};
  JwtOptions o;
  o.jwks_json = boost::json::serialize(jwks);
  JwtVerifier v(o);
  EXPECT_EQ(refusal(v, one.sign(claims(), {{"alg", "RS256"}, {"kid", "one"}})), "accepted");
  EXPECT_EQ(refusal(v, two.sign(claims(), {{"alg", "RS256"}, {"kid", "two"}})), "accepted");
  EXPECT_EQ(refusal(v, two.sign(claims(), {{"alg", "RS256"}, {"kid", "one"}})), "bad_signature");
  EXPECT_EQ(refusal(v, one.sign(claims(), {{"alg", "RS256"}, {"kid", "three"}})), "unknown_kid");
  EXPECT_EQ(refusal(v, hs256_jwt(claims(), kSecret, {{"alg", "HS256"}, {"kid", "shared"}})),
            "accepted");
  // An HS256 token naming an RSA key's kid.
  EXPECT_EQ(refusal(v, hs256_jwt(claims(), kSecret, {{"alg", "HS256"}, {"kid", "one"}})),
            "alg_not_allowed");
  // No kid and no kid-less key configured.
  EXPECT_EQ(refusal(v, one.sign(claims())), "alg_not_allowed");
}

TEST(Jwt, UnusableKeyConfigurationIsRefusedAtStart) {
  auto refused = [](JwtOptions o) {
    try {
      JwtVerifier v(std::move(o));
    } catch (const Error& e) {
      return e.code() == ErrorCode::invalid_input;
    }
    return false;
  };
  JwtOptions pem;
  pem.public_key_pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
  EXPECT_TRUE(refused(pem));
  JwtOptions jwks;
  jwks.jwks_json = R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})";  // no kid
  EXPECT_TRUE(refused(jwks));
  jwks.jwks_json = "[]";
  EXPECT_TRUE(refused(jwks));
}

}  // namespace
}  // namespace duckmesh::auth
