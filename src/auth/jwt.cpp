#include "auth/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace duckmesh::auth {
namespace {

Error refuse(std::string reason, std::string message) {
  return Error(ErrorCode::unauthorized, std::move(message), {{"reason", std::move(reason)}});
}

boost::json::object decode_json_part(std::string_view part, const char* what) {
  auto bytes = crypto::base64url_decode(part);
  if (!bytes) {
    throw refuse("malformed_token", std::string("the token's ") + what + " is not base64url");
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(*bytes, ec);
  if (ec || !value.is_object()) {
    throw refuse("malformed_token", std::string("the token's ") + what + " is not a JSON object");
  }
  return std::move(value.as_object());
}

std::string string_member(const boost::json::object& o, std::string_view name) {
  auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

// A NumericDate claim (seconds; fractions allowed), or nullopt when absent.
std::optional<double> time_claim(const boost::json::object& claims, std::string_view name) {
  auto* v = claims.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_double()) return v->as_double();
  throw refuse("malformed_token", "claim '" + std::string(name) + "' must be a number of seconds");
}

std::string base64url_member(const boost::json::object& jwk, std::string_view name) {
  auto text = string_member(jwk, name);
  auto bytes = crypto::base64url_decode(text);
  if (text.empty() || !bytes) {
    throw Error(ErrorCode::invalid_input,
                "JWKS key member '" + std::string(name) + "' is missing or not base64url",
                {{"member", std::string(name)}});
  }
  return *bytes;
}

}  // namespace

JwtVerifier::JwtVerifier(JwtOptions options) : options_(std::move(options)) {
  if (!options_.hs256_secret.empty()) {
    hs256_ = std::make_unique<Key>(Key{"HS256", options_.hs256_secret, nullptr});
  }
  if (!options_.public_key_pem.empty()) {
    rs256_ = std::make_unique<Key>(
        Key{"RS256", "", crypto::rsa_public_key_from_pem(options_.public_key_pem)});
  }
  if (!options_.jwks_json.empty()) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(options_.jwks_json, ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("keys") || !doc.at("keys").is_array()) {
      throw Error(ErrorCode::invalid_input, "the JWKS document must be {\"keys\": [...]}");
    }
    for (const auto& entry : doc.at("keys").as_array()) {
      if (!entry.is_object()) throw Error(ErrorCode::invalid_input, "a JWKS key is not an object");
      const auto& jwk = entry.as_object();
      std::string kid = string_member(jwk, "kid");
      std::string kty = string_member(jwk, "kty");
      if (kid.empty()) throw Error(ErrorCode::invalid_input, "every JWKS key needs a kid");
      if (by_kid_.count(kid)) {
        throw Error(ErrorCode::invalid_input, "JWKS kid '" + kid + "' appears twice",
                    {{"kid", kid}});
      }
      std::string use = string_member(jwk, "use");
      if (!use.empty() && use != "sig") continue;  // encryption keys do not verify tokens
      if (kty == "RSA") {
        by_kid_.emplace(kid, Key{"RS256", "",
                                 crypto::rsa_public_key_from_components(
                                     base64url_member(jwk, "n"), base64url_member(jwk, "e"))});
      } else if (kty == "oct") {
        by_kid_.emplace(kid, Key{"HS256", base64url_member(jwk, "k"), nullptr});
      } else {
        throw Error(ErrorCode::invalid_input,
                    "JWKS key '" + kid + "' has kty '" + kty + "'; RSA and oct are supported",
                    {{"kid", kid}});
      }
      std::string alg = string_member(jwk, "alg");
      if (!alg.empty() && alg != by_kid_.at(kid).alg) {
        throw Error(
            ErrorCode::invalid_input,
            "JWKS key '" + kid + "' says alg " + alg + " but is a " + by_kid_.at(kid).alg + " key",
            {{"kid", kid}});
      }
    }
  }
}

JwtVerifier::~JwtVerifier() = default;

const JwtVerifier::Key* JwtVerifier::select_key(const std::string& alg,
                                                const std::string& kid) const {
  const Key* key = nullptr;
  if (!kid.empty()) {
    auto it = by_kid_.find(kid);
    if (it == by_kid_.end()) throw refuse("unknown_kid", "no configured key has kid '" + kid + "'");
    key = &it->second;
  } else {
    key = alg == "HS256" ? hs256_.get() : rs256_.get();
  }
  if (!key || key->alg != alg) {
    throw refuse("alg_not_allowed", "no configured key verifies alg " + alg +
                                        (kid.empty() ? "" : " with kid '" + kid + "'"));
  }
  return key;
}

Identity JwtVerifier::verify(std::string_view token, std::int64_t now_unix_s) const {
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    throw refuse("malformed_token", "a JWT has three base64url parts separated by '.'");
  }
  auto header = decode_json_part(token.substr(0, first), "header");
  auto claims = decode_json_part(token.substr(first + 1, second - first - 1), "payload");
  auto signature = crypto::base64url_decode(token.substr(second + 1));
  if (!signature) throw refuse("malformed_token", "the token's signature is not base64url");

  std::string alg = string_member(header, "alg");
  if (alg != "HS256" && alg != "RS256") {
    throw refuse("alg_not_allowed",
                 "alg '" + alg + "' is not accepted; tokens must be signed HS256 or RS256");
  }
  const Key* key = select_key(alg, string_member(header, "kid"));
  auto signed_part = token.substr(0, second);
  bool valid = alg == "HS256" ? crypto::constant_time_equal(
                                    crypto::hmac_sha256(key->secret, signed_part), *signature)
                              : crypto::verify_rs256(key->rsa.get(), signed_part, *signature);
  if (!valid) throw refuse("bad_signature", "the token's signature does not verify");

  // Claims are looked at only once the signature holds.
  const double now = static_cast<double>(now_unix_s);
  const double leeway = static_cast<double>(options_.leeway.count());
  auto exp = time_claim(claims, "exp");
  if (!exp) throw refuse("bad_claims", "the token has no exp claim; tokens must expire");
  if (now > *exp + leeway) throw refuse("expired", "the token has expired");
  if (auto nbf = time_claim(claims, "nbf"); nbf && now + leeway < *nbf) {
    throw refuse("not_yet_valid", "the token is not valid yet (nbf)");
  }
  if (auto iat = time_claim(claims, "iat"); iat && now + leeway < *iat) {
    throw refuse("not_yet_valid", "the token was issued in the future (iat)");
  }
  if (!options_.audience.empty()) {
    bool found = false;
    if (auto* aud = claims.if_contains("aud")) {
      if (aud->is_string()) found = aud->as_string() == options_.audience;
      if (aud->is_array()) {
        for (const auto& a : aud->as_array())
          found = found || (a.is_string() && a.as_string() == options_.audience);
      }
    }
    if (!found) throw refuse("wrong_audience", "the token is not for this audience");
  }
  if (!options_.issuer.empty() && string_member(claims, "iss") != options_.issuer) {
    throw refuse("wrong_issuer", "the token is not from the configured issuer");
  }

  auto role = role_from_string(string_member(claims, "duckmesh_role"));
  if (!role) {
    throw refuse("bad_claims",
                 "claim 'duckmesh_role' must be one of reader, writer, admin, superadmin");
  }
  std::string product = string_member(claims, "duckmesh_product");
  if ((*role == Role::superadmin) != product.empty()) {
    throw refuse("bad_claims",
                 "claim 'duckmesh_product' is required for a product role and refused with "
                 "superadmin");
  }
  Identity identity;
  identity.method = Method::jwt;
  std::string sub = string_member(claims, "sub");
  identity.subject = "jwt:" + (sub.empty() ? std::string("unnamed") : sub);
  identity.product = product;
  identity.role = *role;
  return identity;
}

}  // namespace duckmesh::auth
