// The few cryptographic primitives auth needs, over OpenSSL, with every
// OpenSSL handle owned by a unique_ptr (freed on every path).
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace duckmesh::auth::crypto {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// `count` bytes from OpenSSL's CSPRNG; internal when it fails.
std::string random_bytes(std::size_t count);

// RFC 4648 base64url without padding; decode also refuses padding and
// characters outside the alphabet (nullopt).
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

std::string sha256(std::string_view bytes);
std::string hmac_sha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// An RSA public key from PEM text (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY"), or from
// the JWK members n and e (big-endian bytes). invalid_input when unusable.
Pkey rsa_public_key_from_pem(std::string_view pem);
Pkey rsa_public_key_from_components(std::string_view n, std::string_view e);

// RSASSA-PKCS1-v1_5 with SHA-256 (JWS RS256).
bool verify_rs256(EVP_PKEY* key, std::string_view data, std::string_view signature);

}  // namespace duckmesh::auth::crypto
