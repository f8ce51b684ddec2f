// Makes JWTs for tests: HS256 with a secret, RS256 with a generated RSA key.
// Independent of the service's own auth code, so a test cannot pass because
// signer and verifier share a mistake.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace duckmesh::testing {

inline std::string b64url(std::string_view bytes) {
  static constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += a[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += a[(buffer << (6 - bits)) & 63];
  return out;
}

inline std::string jwt_signing_input(const boost::json::object& header,
                                     const boost::json::object& claims) {
  return b64url(boost::json::serialize(header)) + "." + b64url(boost::json::serialize(claims));
}

inline std::string hs256_jwt(const boost::json::object& claims, const std::string& secret,
                             boost::json::object header = {{"alg", "HS256"}, {"typ", "JWT"}}) {
  std::string input = jwt_signing_input(header, claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

class RsaKey {
 public:
  RsaKey() : key_(EVP_RSA_gen(2048)) {
    if (!key_) throw std::runtime_error("RSA key generation failed");
  }
  ~RsaKey() { EVP_PKEY_free(key_); }
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;

  std::string public_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
  }

  // {"kty":"RSA","kid":kid,"n":...,"e":...}
  boost::json::object jwk(const std::string& kid) const {
    return {{"kty", "RSA"},
            {"kid", kid},
            {"use", "sig"},
            {"n", component(OSSL_PKEY_PARAM_RSA_N)},
            {"e", component(OSSL_PKEY_PARAM_RSA_E)}};
  }

  std::string sign(const boost::json::object& claims,
                   boost::json::object header = {{"alg", "RS256"}, {"typ", "JWT"}}) const {
    std::string input = jwt_signing_input(header, claims);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return input + "." + b64url(sig);
  }

 private:
  std::string component(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_, name, &bn);
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return b64url(bytes);
  }

  EVP_PKEY* key_;
};

}  // namespace duckmesh::testing
