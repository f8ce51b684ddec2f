#include "auth/authenticator.hpp"

#include <chrono>

#include "common/error.hpp"

namespace duckmesh::auth {
namespace {

Error refuse(std::string reason, std::string message) {
  return Error(ErrorCode::unauthorized, std::move(message), {{"reason", std::move(reason)}});
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Authenticator::Authenticator(KeyService& keys, std::unique_ptr<JwtVerifier> jwt,
                             bool insecure_no_auth, std::function<std::int64_t()> now_unix_s)
    : keys_(keys),
      jwt_(std::move(jwt)),
      insecure_(insecure_no_auth),
      now_unix_s_(std::move(now_unix_s)) {}

Identity Authenticator::authenticate(const Credentials& credentials) const {
  if (!credentials.present()) {
    if (insecure_) {
      Identity anonymous;
      anonymous.method = Method::insecure;
      anonymous.subject = "anonymous";
      anonymous.role = Role::superadmin;
      return anonymous;
    }
    throw refuse("missing_credentials",
                 "credentials are required: send Authorization: Bearer <API key or JWT> or "
                 "X-API-Key: <API key>");
  }
  if (!credentials.authorization.empty() && !credentials.api_key.empty()) {
    throw refuse("malformed_credentials", "send either Authorization or X-API-Key, not both");
  }
  std::string_view token;
  if (!credentials.api_key.empty()) {
    token = trim(credentials.api_key);
    if (!looks_like_api_key(token)) {
      throw refuse("malformed_key", "X-API-Key must hold an API key (dmk_<id>_<secret>)");
    }
  } else {
    auto header = trim(credentials.authorization);
    if (!iequals_prefix(header, "Bearer ")) {
      throw refuse("malformed_credentials", "the Authorization header must use the Bearer scheme");
    }
    token = trim(header.substr(7));
    if (token.empty()) throw refuse("malformed_credentials", "the bearer token is empty");
  }
  if (looks_like_api_key(token)) return keys_.authenticate(token);
  if (!jwt_) {
    throw refuse("jwt_not_configured",
                 "the bearer token is not an API key and no JWT verification is configured");
  }
  std::int64_t now = now_unix_s_ ? now_unix_s_()
                                 : std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
  return jwt_->verify(token, now);
}

}  // namespace duckmesh::auth
