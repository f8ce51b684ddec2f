// AWS Signature Version 4 for S3 requests (header-based, signed payload),
// and the digests S3 requests carry.
//
// Pure functions: given the request's parts and the credentials they return
// the Authorization header value. No I/O, safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace duckmesh::storage::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty unless temporary credentials
};

struct SignedRequest {
  std::string method;                          // "GET", "PUT", ...
  std::string canonical_uri;                   // already URI-encoded path, e.g. "/bucket/a%20b"
  std::map<std::string, std::string> query;    // decoded names and values
  std::map<std::string, std::string> headers;  // lower-case names; must include host, x-amz-date
  std::string payload_sha256;                  // hex SHA-256 of the body
};

// Lower-case hex of SHA-256 / HMAC-SHA256.
std::string sha256_hex(std::string_view data);
// Raw MD5 digest (16 bytes), for the Content-MD5 header of uploads.
std::string md5(std::string_view data);
// Standard base64 with padding (RFC 4648, section 4).
std::string base64(std::string_view bytes);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything
// else %XX (upper case); '/' kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// The canonical query string of `query` (sorted, encoded).
std::string canonical_query(const std::map<std::string, std::string>& query);

// The Authorization header for `request`, signed at `amz_date`
// ("YYYYMMDDTHHMMSSZ") for `region` and service "s3".
std::string authorization(const SignedRequest& request, const Credentials& credentials,
                          std::string_view region, std::string_view amz_date);

}  // namespace duckmesh::storage::s3
