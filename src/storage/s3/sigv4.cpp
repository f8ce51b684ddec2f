#include "storage/s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/error.hpp"
#include "common/hex.hpp"

namespace duckmesh::storage::s3 {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string md5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr)) {
    throw Error(ErrorCode::internal, "MD5 failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len)) {
    throw Error(ErrorCode::internal, "HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string canonical_query(const std::map<std::string, std::string>& query) {
  // Sorted by encoded name; encoding keeps the order of these ASCII names.
  std::map<std::string, std::string> encoded;
  for (const auto& [k, v] : query) encoded[uri_encode(k, false)] = uri_encode(v, false);
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string authorization(const SignedRequest& request, const Credentials& credentials,
                          std::string_view region, std::string_view amz_date) {
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : request.headers) {
    // Values are trimmed and inner runs of spaces folded.
    std::string folded;
    bool space = false;
    for (char c : value) {
      if (c == ' ' || c == '\t') {
        space = !folded.empty();
        continue;
      }
      if (space) folded += ' ';
      space = false;
      folded += c;
    }
    canonical_headers += name + ":" + folded + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  std::string canonical = request.method + "\n" + request.canonical_uri + "\n" +
                          canonical_query(request.query) + "\n" + canonical_headers + "\n" +
                          signed_headers + "\n" + request.payload_sha256;
  std::string date(amz_date.substr(0, 8));
  std::string scope = date + "/" + std::string(region) + "/s3/aws4_request";
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" + sha256_hex(canonical);
  std::string key = hmac_sha256("AWS4" + credentials.secret_key, date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, "s3");
  key = hmac_sha256(key, "aws4_request");
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope +
         ",SignedHeaders=" + signed_headers + ",Signature=" + to_hex(hmac_sha256(key, to_sign));
}

}  // namespace duckmesh::storage::s3
