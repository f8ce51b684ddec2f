#include "auth/api_keys.hpp"

#include <boost/json/object.hpp>

#include "auth/crypto.hpp"
#include "common/error.hpp"
#include "common/hex.hpp"
#include "obs/log.hpp"

namespace duckmesh::auth {
namespace {

constexpr std::string_view kPrefix = "dmk_";
constexpr std::size_t kIdBytes = 6;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSaltBytes = 16;

Error unauthorized(std::string reason, std::string message) {
  return Error(ErrorCode::unauthorized, std::move(message), {{"reason", std::move(reason)}});
}

bool hex_digits(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::optional<PresentedKey> parse_key(std::string_view token) {
  if (token.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  auto rest = token.substr(kPrefix.size());
  auto sep = rest.find('_');
  if (sep != kIdBytes * 2) return std::nullopt;
  PresentedKey key{std::string(rest.substr(0, sep)), std::string(rest.substr(sep + 1))};
  if (!hex_digits(key.id) || key.secret.empty() || key.secret.size() > 128) return std::nullopt;
  if (!crypto::base64url_decode(key.secret)) return std::nullopt;
  return key;
}

bool looks_like_api_key(std::string_view token) {
  return token.substr(0, kPrefix.size()) == kPrefix;
}

std::string hash_secret(std::string_view secret) {
  std::string salt = crypto::random_bytes(kSaltBytes);
  return "sha256$" + to_hex(salt) + "$" + to_hex(crypto::sha256(salt + std::string(secret)));
}

bool secret_matches(std::string_view secret, std::string_view stored_hash) {
  constexpr std::string_view scheme = "sha256$";
  if (stored_hash.substr(0, scheme.size()) != scheme) return false;
  auto rest = stored_hash.substr(scheme.size());
  auto sep = rest.find('$');
  if (sep == std::string_view::npos) return false;
  auto salt = from_hex(rest.substr(0, sep));
  auto expected = from_hex(rest.substr(sep + 1));
  if (!salt || !expected) return false;
  return crypto::constant_time_equal(crypto::sha256(*salt + std::string(secret)), *expected);
}

KeyService::KeyService(catalog::CatalogRepo& catalog, KeyServiceOptions options)
    : catalog_(catalog), options_(std::move(options)) {}

std::int64_t KeyService::now_unix_us() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

IssuedKey KeyService::create(const std::string& product, Role role) {
  if ((role == Role::superadmin) != product.empty()) {
    throw Error(ErrorCode::invalid_input,
                role == Role::superadmin
                    ? "a superadmin key is a platform key and takes no product"
                    : "a " + std::string(to_string(role)) + " key needs a product",
                {{"field", "product"}, {"role", to_string(role)}});
  }
  if (!product.empty() && !catalog_.find_product(product)) {
    throw Error(ErrorCode::not_found, "product '" + product + "' does not exist",
                {{"product", product}});
  }
  std::string secret = crypto::base64url_encode(crypto::random_bytes(kSecretBytes));
  IssuedKey issued;
  issued.record.id = to_hex(crypto::random_bytes(kIdBytes));
  issued.record.product = product;
  issued.record.role = std::string(to_string(role));
  issued.record.secret_hash = hash_secret(secret);
  issued.record.created_unix_us = now_unix_us();
  catalog_.create_api_key(issued.record);
  issued.token = std::string(kPrefix) + issued.record.id + "_" + secret;
  return issued;
}

catalog::ApiKeyRecord KeyService::revoke(const std::string& id) {
  if (!catalog_.revoke_api_key(id, now_unix_us())) {
    throw Error(ErrorCode::not_found, "no API key has id '" + id + "'", {{"key_id", id}});
  }
  return *catalog_.find_api_key(id);
}

std::vector<catalog::ApiKeyRecord> KeyService::list(const std::string& product) const {
  return catalog_.list_api_keys(product);
}

std::optional<catalog::ApiKeyRecord> KeyService::find(const std::string& id) const {
  return catalog_.find_api_key(id);
}

Identity KeyService::authenticate(std::string_view token) {
  auto presented = parse_key(token);
  if (!presented) {
    throw unauthorized("malformed_key", "the API key is malformed; keys read dmk_<id>_<secret>");
  }
  auto record = catalog_.find_api_key(presented->id);
  if (!record) throw unauthorized("unknown_key", "the API key is not valid");
  if (!secret_matches(presented->secret, record->secret_hash)) {
    throw unauthorized("wrong_secret", "the API key is not valid");
  }
  if (record->revoked_unix_us) {
    throw unauthorized("revoked_key", "the API key '" + record->id + "' has been revoked");
  }
  auto role = role_from_string(record->role);
  if (!role) throw Error(ErrorCode::internal, "API key '" + record->id + "' has an unknown role");

  std::int64_t now = now_unix_us();
  bool touch = false;
  {
    std::lock_guard lock(touch_mutex_);
    auto& last = last_touched_[record->id];
    auto interval_us =
        std::chrono::duration_cast<std::chrono::microseconds>(options_.touch_interval).count();
    if (last == 0 || now - last >= interval_us) {
      last = now;
      touch = true;
    }
  }
  if (touch) {
    try {
      catalog_.touch_api_key(record->id, now);
    } catch (const Error& e) {
      // A busy catalog must not turn a valid key away; the time is best effort.
      log::warn("could not record an API key's last use",
                {{"key_id", record->id}, {"error", e.what()}});
    }
  }
  Identity identity;
  identity.method = Method::api_key;
  identity.subject = "key:" + record->id;
  identity.key_id = record->id;
  identity.product = record->product;
  identity.role = *role;
  return identity;
}

boost::json::object to_json(const catalog::ApiKeyRecord& key) {
  auto optional = [](const std::optional<std::int64_t>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
  };
  return {{"id", key.id},
          {"product",
           key.product.empty() ? boost::json::value(nullptr) : boost::json::value(key.product)},
          {"role", key.role},
          {"created_unix_us", key.created_unix_us},
          {"last_used_unix_us", optional(key.last_used_unix_us)},
          {"revoked_unix_us", optional(key.revoked_unix_us)},
          {"revoked", key.revoked_unix_us.has_value()}};
}

}  // namespace duckmesh::auth
