// JWT bearer tokens (RFC 7519, compact JWS) signed HS256 or RS256.
//
// Keys come from configuration: an HS256 shared secret, an RSA public key
// file (PEM, "BEGIN PUBLIC KEY"), and/or a JWKS file ({"keys": [...]}, kty
// RSA with n and e, or kty oct with k; each with a kid). A token whose header
// names a kid is checked only against the JWKS key of that kid; without a kid
// against the configured secret (HS256) or public key (RS256).
//
// Refused: alg "none" and any alg but HS256/RS256; an alg the selected key
// is not for (an RSA key never verifies HS256, which stops the classic
// public-key-as-HMAC-secret confusion); a bad signature; a missing or past
// exp (past by more than `leeway`); an nbf or iat more than `leeway` in the
// future; an aud that does not contain
// the configured audience; an iss other than the configured issuer.
//
// Claims that make the identity (documented in the README):
//   sub               the subject, recorded in the audit log
//   duckmesh_role     reader | writer | admin | superadmin   (required)
//   duckmesh_product  the product of a product role (required unless
//                     superadmin, and refused with superadmin)
//
// Immutable after construction; verify() is safe from many threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "auth/crypto.hpp"
#include "auth/identity.hpp"

namespace duckmesh::auth {

struct JwtOptions {
  std::string hs256_secret;    // empty: no HS256 without a kid
  std::string public_key_pem;  // empty: no RS256 without a kid
  std::string jwks_json;       // empty: no kid-selected keys
  std::string audience;        // empty: aud is not checked
  std::string issuer;          // empty: iss is not checked
  std::chrono::seconds leeway{30};
  bool enabled() const {
    return !hs256_secret.empty() || !public_key_pem.empty() || !jwks_json.empty();
  }
};

class JwtVerifier {
 public:
  // invalid_input for an unusable key, PEM or JWKS document.
  explicit JwtVerifier(JwtOptions options);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // The identity the token carries, checked at `now_unix_s`. unauthorized
  // with details.reason one of malformed_token, alg_not_allowed, unknown_kid,
  // bad_signature, expired, not_yet_valid, wrong_audience, wrong_issuer,
  // bad_claims.
  Identity verify(std::string_view token, std::int64_t now_unix_s) const;

 private:
  struct Key {
    std::string alg;     // HS256 or RS256
    std::string secret;  // HS256
    crypto::Pkey rsa;    // RS256
  };
  const Key* select_key(const std::string& alg, const std::string& kid) const;

  JwtOptions options_;
  std::unique_ptr<Key> hs256_;
  std::unique_ptr<Key> rs256_;
  std::map<std::string, Key> by_kid_;
};

}  // namespace duckmesh::auth
