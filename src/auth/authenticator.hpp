// Authenticator: turns the credentials of a request into an Identity.
//
// Credentials are `Authorization: Bearer <token>` or `X-API-Key: <key>`. A
// token starting with "dmk_" is an API key (KeyService); anything else sent
// as a bearer token is a JWT (JwtVerifier, when configured). Sending both
// headers is refused, so a request never acts as two callers.
//
// Insecure mode (--insecure-no-auth, for local trials only): a request
// without credentials acts as an anonymous superadmin; credentials that are
// sent are still checked, so a client can try its keys.
//
// Every refusal is an Error unauthorized whose details.reason says why
// (missing_credentials, malformed_credentials, and those of KeyService and
// JwtVerifier); the caller counts it. Safe from many threads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "auth/api_keys.hpp"
#include "auth/identity.hpp"
#include "auth/jwt.hpp"

namespace duckmesh::auth {

struct Credentials {
  std::string_view authorization;  // the Authorization header, "" when absent
  std::string_view api_key;        // the X-API-Key header, "" when absent
  bool present() const { return !authorization.empty() || !api_key.empty(); }
};

class Authenticator {
 public:
  // `jwt` may be null (no JWT configured). `keys` must outlive this.
  Authenticator(KeyService& keys, std::unique_ptr<JwtVerifier> jwt, bool insecure_no_auth,
                std::function<std::int64_t()> now_unix_s = {});

  Identity authenticate(const Credentials& credentials) const;

  bool insecure() const { return insecure_; }
  bool jwt_enabled() const { return jwt_ != nullptr; }

 private:
  KeyService& keys_;
  std::unique_ptr<JwtVerifier> jwt_;
  bool insecure_;
  std::function<std::int64_t()> now_unix_s_;
};

}  // namespace duckmesh::auth
