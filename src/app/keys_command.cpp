#include "app/keys_command.hpp"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <ostream>

#include "app/catalog_command.hpp"
#include "app/node.hpp"
#include "auth/api_keys.hpp"
#include "common/error.hpp"

namespace duckmesh::app {
namespace {

constexpr int kBusyTimeoutMs = 10'000;

std::unique_ptr<catalog::CatalogRepo> open_catalog(const Config& config) {
  std::filesystem::create_directories(config.data_dir);
  return open_storage(config.data_dir, postgres_catalog_options(config), kBusyTimeoutMs).catalog;
}

std::string format_time(std::optional<std::int64_t> unix_us) {
  if (!unix_us) return "-";
  std::time_t seconds = static_cast<std::time_t>(*unix_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

int run_keys_create(const Config& config, const KeysCommand& command, std::ostream& out) {
  auto role = auth::role_from_string(command.role);
  if (!role) {
    throw Error(ErrorCode::invalid_input,
                "--role must be reader, writer, admin or superadmin, not '" + command.role + "'",
                {{"field", "role"}});
  }
  auto catalog = open_catalog(config);
  auth::KeyService keys(*catalog);
  auto issued = keys.create(command.product, *role);
  audit_cli_action(*catalog, "key.create", command.product, "key " + issued.record.id);
  out << issued.token << "\n";
  out << "# key id " << issued.record.id << ", role " << issued.record.role
      << (issued.record.product.empty() ? " (platform)" : ", product " + issued.record.product)
      << ". Shown once; only its hash is stored.\n"
      << "# Use it as:  Authorization: Bearer <key>   or   X-API-Key: <key>\n";
  return 0;
}

int run_keys_revoke(const Config& config, const KeysCommand& command, std::ostream& out) {
  auto catalog = open_catalog(config);
  auth::KeyService keys(*catalog);
  auto key = keys.revoke(command.id);
  audit_cli_action(*catalog, "key.revoke", key.product, "key " + key.id);
  out << "revoked " << key.id << " (revoked at " << format_time(key.revoked_unix_us) << ")\n";
  return 0;
}

int run_keys_list(const Config& config, const KeysCommand& command, std::ostream& out) {
  auto catalog = open_catalog(config);
  auth::KeyService keys(*catalog);
  out << std::left << std::setw(14) << "ID" << std::setw(20) << "PRODUCT" << std::setw(12) << "ROLE"
      << std::setw(22) << "CREATED" << std::setw(22) << "LAST USED"
      << "REVOKED\n";
  for (const auto& k : keys.list(command.product)) {
    out << std::left << std::setw(14) << k.id << std::setw(20)
        << (k.product.empty() ? "-" : k.product) << std::setw(12) << k.role << std::setw(22)
        << format_time(k.created_unix_us) << std::setw(22) << format_time(k.last_used_unix_us)
        << format_time(k.revoked_unix_us) << "\n";
  }
  return 0;
}

}  // namespace duckmesh::app
