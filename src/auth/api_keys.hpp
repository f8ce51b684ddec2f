// API keys: issued once, stored only as a salted hash, revocable.
//
// A key reads `dmk_<id>_<secret>`: the id (12 hex digits) names the catalog
// row, the secret (43 base64url characters, 256 random bits) is shown once
// at creation and never stored. The row keeps "sha256$<salt hex>$<hash hex>",
// the SHA-256 of a 16-byte random salt followed by the secret. A slow
// password hash (PBKDF2) buys nothing for a 256-bit random secret, which no
// one can guess, and would cost every request a few milliseconds. Hashes are
// compared in constant time.
//
// last-used: a successful authentication records the time in the catalog at
// most once per `touch_interval` per key (per process), so a busy key costs
// one catalog write a minute, not one per request.
//
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "auth/identity.hpp"
#include "catalog/catalog_repo.hpp"

namespace duckmesh::auth {

struct IssuedKey {
  catalog::ApiKeyRecord record;  // as stored (hash, never the secret)
  std::string token;             // dmk_<id>_<secret>: give it to the caller once
};

// The parts of a presented key, or nullopt when it is not shaped like one.
struct PresentedKey {
  std::string id;
  std::string secret;
};
std::optional<PresentedKey> parse_key(std::string_view token);
bool looks_like_api_key(std::string_view token);

// "sha256$<salt>$<hash>" of `secret` with a fresh salt; and its check.
std::string hash_secret(std::string_view secret);
bool secret_matches(std::string_view secret, std::string_view stored_hash);

struct KeyServiceOptions {
  std::chrono::seconds touch_interval{60};
  // Microseconds since the Unix epoch; empty: the system clock.
  std::function<std::int64_t()> clock;
};

class KeyService {
 public:
  explicit KeyService(catalog::CatalogRepo& catalog, KeyServiceOptions options = {});
  KeyService(const KeyService&) = delete;
  KeyService& operator=(const KeyService&) = delete;

  // Issues a key for `product` with `role`, or a platform key (role
  // superadmin, empty product). invalid_input for superadmin with a product
  // or a product role without one; not_found for an unknown product.
  IssuedKey create(const std::string& product, Role role);

  // Revokes the key; takes effect on the next request of any process using
  // the catalog. not_found for an unknown id. Returns the key as stored.
  catalog::ApiKeyRecord revoke(const std::string& id);

  // Keys of `product`, or all keys when empty.
  std::vector<catalog::ApiKeyRecord> list(const std::string& product) const;
  std::optional<catalog::ApiKeyRecord> find(const std::string& id) const;

  // The identity of a presented key. unauthorized (details.reason:
  // malformed_key, unknown_key, wrong_secret, revoked_key) otherwise. The same
  // message is used for unknown ids and wrong secrets.
  Identity authenticate(std::string_view token);

 private:
  std::int64_t now_unix_us() const;

  catalog::CatalogRepo& catalog_;
  KeyServiceOptions options_;
  std::mutex touch_mutex_;
  std::map<std::string, std::int64_t> last_touched_;  // key id -> unix us
};

// A key record as JSON for listings (never the hash).
boost::json::object to_json(const catalog::ApiKeyRecord& key);

}  // namespace duckmesh::auth
