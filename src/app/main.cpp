// duckmesh: one binary for every role of the service.
#include <CLI/CLI.hpp>
#include <array>
#include <cstdlib>
#include <iostream>
#include <map>

#include "app/catalog_command.hpp"
#include "app/config.hpp"
#include "app/keys_command.hpp"
#include "app/maintenance_command.hpp"
#include "app/onto_serve.hpp"
#include "app/serve.hpp"
#include "client/dead_letters_command.hpp"
#include "client/ingest_command.hpp"
#include "client/query_command.hpp"
#include "client/shell.hpp"
#include "common/error.hpp"
#include "duck/database.hpp"

namespace {

// Adds one flag per setting to `command`; given flags land in `given`.
void add_setting_flags(CLI::App& command, std::map<std::string, std::string>& values,
                       std::map<std::string, CLI::Option*>& options) {
  for (const auto& setting : duckmesh::app::settings()) {
    std::string env;
    for (const auto& name : setting.env) env += (env.empty() ? " [env " : ", ") + name;
    if (!env.empty()) env += "]";
    if (duckmesh::app::is_switch(setting.key)) {
      // A bare switch: given alone it means true (the environment and the
      // config file still take true/false).
      options[setting.key] = command.add_flag_callback(
          duckmesh::app::flag_name(setting.key),
          [&values, key = setting.key] { values[key] = "true"; }, setting.help + env);
      continue;
    }
    options[setting.key] = command.add_option(duckmesh::app::flag_name(setting.key),
                                              values[setting.key], setting.help + env);
  }
}

constexpr const char* kServerHelp =
    "DuckMesh server URL, http://host[:port][/prefix] [env DUCKMESH_SERVER; default "
    "http://127.0.0.1:8080]";

constexpr const char* kClientExitCodes =
    "Exit codes: 0 done; 1 the server refused or failed, or could not be reached; 2 bad arguments "
    "or unreadable input";

std::map<std::string, std::string> given_flags(const std::map<std::string, std::string>& values,
                                               const std::map<std::string, CLI::Option*>& options) {
  std::map<std::string, std::string> given;
  for (const auto& [key, option] : options) {
    if (option->count() > 0) given[key] = values.at(key);
  }
  return given;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"DuckMesh: governed, multi-tenant data products on DuckDB"};
  app.require_subcommand(1);

  std::string config_file;
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;

  auto* serve = app.add_subcommand("serve", "Run the service (HTTP API, ingest, queries)");
  serve->add_option("--config", config_file,
                    "JSON file of setting: value pairs (flags and environment override it) [env "
                    "DUCKMESH_CONFIG]");
  add_setting_flags(*serve, values, options);

  auto* version = app.add_subcommand("version", "Print the DuckMesh and DuckDB versions");

  // Clients of a running server.
  std::string server_url;
  std::string api_key;
  constexpr const char* kApiKeyHelp =
      "API key (or JWT) sent as Authorization: Bearer [env DUCKMESH_API_KEY]";
  duckmesh::client::IngestCommand ingest_command;
  bool no_wait = false;
  std::int64_t wait_timeout_s = ingest_command.wait_timeout.count();
  auto* ingest = app.add_subcommand(
      "ingest",
      "Send the events of an NDJSON or CSV file to a table of a running server, in batches");
  ingest->footer(std::string(kClientExitCodes) +
                 "; 3 done, but --skip-invalid left out rejected events.\n"
                 "Re-running the same command (same file, same --batch-size) after a failure or "
                 "Ctrl-C is safe: batches the server already took come back as duplicates.");
  ingest->add_option("--product", ingest_command.product, "Data product")->required();
  ingest->add_option("--table", ingest_command.table, "Table of the product")->required();
  ingest
      ->add_option("--format", ingest_command.format,
                   "Input format: ndjson (one JSON event a line) or csv (a header line naming the "
                   "columns) [default: csv for *.csv, else ndjson]")
      ->check(CLI::IsMember({"ndjson", "csv"}));
  ingest->add_option("--batch-size", ingest_command.limits.max_events, "Events per request")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  ingest
      ->add_option("--batch-bytes", ingest_command.limits.max_bytes,
                   "Most bytes of events per request (keep it under the server's body limit)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
  ingest->add_flag("--gzip", ingest_command.gzip, "Compress request bodies with gzip");
  ingest->add_flag("--skip-invalid", ingest_command.skip_invalid,
                   "Let the server take the valid events of a batch and report the invalid ones, "
                   "instead of stopping at the first batch with an invalid event");
  ingest->add_flag("--no-wait", no_wait,
                   "Do not wait for the events to become visible to queries (prints the visibility "
                   "token instead of the snapshot)");
  ingest
      ->add_option("--wait-timeout", wait_timeout_s,
                   "Seconds to wait for the events to become visible")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  ingest->add_option("--server", server_url, kServerHelp);
  ingest->add_option("--api-key", api_key, kApiKeyHelp);
  ingest->add_option("FILE", ingest_command.input, "NDJSON or CSV file, or - for standard input")
      ->required();

  duckmesh::client::QueryCommand query_command;
  std::int64_t query_snapshot = 0;
  std::string query_as_of;
  std::size_t query_max_rows = 0;
  auto* query =
      app.add_subcommand("query", "Run one SQL statement against a product of a running server");
  query->footer(kClientExitCodes);
  query->add_option("--product", query_command.product, "Data product")->required();
  query
      ->add_option("--format", query_command.spec.format,
                   "Output: an aligned table, or the server's csv, json or ndjson as is")
      ->check(CLI::IsMember({"table", "csv", "json", "ndjson"}))
      ->capture_default_str();
  auto* snapshot_option =
      query->add_option("--snapshot", query_snapshot, "Read this snapshot id [default: the latest]")
          ->check(CLI::PositiveNumber);
  auto* as_of_option = query->add_option(
      "--as-of", query_as_of,
      "Read the snapshot current at this time (RFC 3339, e.g. 2025-01-31T12:00:00Z)");
  snapshot_option->excludes(as_of_option);
  auto* max_rows_option = query->add_option(
      "--max-rows", query_max_rows, "Return at most this many rows [server default: 10000]");
  query->add_option("--server", server_url, kServerHelp);
  query->add_option("--api-key", api_key, kApiKeyHelp);
  query
      ->add_option("SQL", query_command.spec.sql,
                   "The statement, or - to read it from standard input")
      ->required();

  duckmesh::client::ShellCommand shell_command;
  std::string history_file;
  auto* shell =
      app.add_subcommand("shell", "Interactive SQL prompt against a product of a running server");
  shell->footer(
      "Statements end with ';'. Commands: \\q quit, \\tables, \\snapshot N|latest, "
      "\\format table|csv|json|ndjson, \\history, \\help. With piped input there is no prompt "
      "and the exit code is 1 if any statement failed.");
  shell->add_option("--product", shell_command.product, "Data product")->required();
  shell->add_option("--server", server_url, kServerHelp);
  shell->add_option("--api-key", api_key, kApiKeyHelp);
  shell->add_option("--history", history_file,
                    "History file, used when standard input is a terminal [env DUCKMESH_HISTORY; "
                    "default ~/.duckmesh_history]");

  duckmesh::client::DeadLettersCommand dead_letters_command;
  auto* dead_letters = app.add_subcommand(
      "dead-letters", "List or replay a product's events that failed to commit (admin)");
  dead_letters->require_subcommand(1);
  auto* dead_list = dead_letters->add_subcommand(
      "list", "Oldest first: position, table, attempts, when, the reason and the event");
  dead_list->footer(kClientExitCodes);
  dead_list->add_option("--product", dead_letters_command.product, "Data product")->required();
  dead_list->add_option("--table", dead_letters_command.table, "Only this table");
  dead_list->add_option("--limit", dead_letters_command.limit, "At most this many")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  dead_list
      ->add_option("--format", dead_letters_command.format,
                   "Output: an aligned table, or the server's JSON as is")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  dead_list->add_option("--server", server_url, kServerHelp);
  dead_list->add_option("--api-key", api_key, kApiKeyHelp);
  auto* dead_replay = dead_letters->add_subcommand(
      "replay", "Publish dead letters again once their cause is mended (their table exists)");
  dead_replay->footer(kClientExitCodes);
  dead_replay->add_option("--product", dead_letters_command.product, "Data product")->required();
  auto* replay_table = dead_replay->add_option("--table", dead_letters_command.table,
                                               "Replay every dead letter of this table");
  auto* replay_positions = dead_replay->add_option("--position", dead_letters_command.positions,
                                                   "Replay the dead letter at this position");
  replay_table->excludes(replay_positions);
  dead_replay->add_option("--server", server_url, kServerHelp);
  dead_replay->add_option("--api-key", api_key, kApiKeyHelp);

  // Maintenance of a data directory (safe while a server runs on it).
  struct MaintenanceFlags {
    std::map<std::string, std::string> values;
    std::map<std::string, CLI::Option*> options;
    duckmesh::app::MaintenanceCommand command;
    CLI::App* sub = nullptr;
  };
  std::array<MaintenanceFlags, 3> maintenance;
  const std::array<std::pair<const char*, const char*>, 3> maintenance_commands{{
      {"compact",
       "Merge the small data files of a data directory's tables into large ones (new compact "
       "snapshot; query results do not change)"},
      {"expire",
       "Forget snapshots past retention (retention_max_age_s and retention_min_snapshots)"},
      {"gc",
       "Delete data files no kept snapshot needs and orphans of crashed writes, after "
       "gc_grace_s"},
  }};
  for (std::size_t i = 0; i < maintenance.size(); ++i) {
    auto& m = maintenance[i];
    m.sub = app.add_subcommand(maintenance_commands[i].first, maintenance_commands[i].second);
    m.sub->add_option("--config", config_file,
                      "JSON file of setting: value pairs [env DUCKMESH_CONFIG]");
    add_setting_flags(*m.sub, m.values, m.options);
    m.sub->add_option("--product", m.command.product, "Only this data product [default: all]");
    if (i == 0) {
      m.sub->add_option("--table", m.command.table, "Only this table (needs --product)");
    } else {
      m.sub->add_flag("--dry-run", m.command.dry_run, "Report what would happen; change nothing");
    }
  }
  // API keys of a data directory (safe while a server runs on it).
  auto* keys = app.add_subcommand("keys", "Create, revoke and list API keys");
  keys->require_subcommand(1);
  duckmesh::app::KeysCommand keys_command;
  std::string keys_data_dir;
  auto add_keys_common = [&](CLI::App* sub) {
    sub->add_option("--config", config_file,
                    "JSON file of setting: value pairs [env DUCKMESH_CONFIG]");
    sub->add_option("--data-dir", keys_data_dir,
                    "Data directory whose catalog holds the keys [env DUCKMESH_DATA_DIR; default "
                    "./duckmesh-data]");
  };
  auto* keys_create = keys->add_subcommand(
      "create",
      "Issue a key (printed once): --product P --role reader|writer|admin, or --role "
      "superadmin without a product for a platform key");
  add_keys_common(keys_create);
  keys_create->add_option("--product", keys_command.product, "Data product of the key");
  keys_create->add_option("--role", keys_command.role, "reader, writer, admin or superadmin")
      ->required()
      ->check(CLI::IsMember({"reader", "writer", "admin", "superadmin"}));
  auto* keys_revoke = keys->add_subcommand("revoke", "Revoke a key by its id");
  add_keys_common(keys_revoke);
  keys_revoke->add_option("ID", keys_command.id, "Key id (the part after dmk_)")->required();
  auto* keys_list =
      keys->add_subcommand("list", "List keys: id, product, role, created, last used, revoked");
  add_keys_common(keys_list);
  keys_list->add_option("--product", keys_command.product, "Only this product's keys");
  // Schema migration of a catalog.
  std::map<std::string, std::string> migrate_values;
  std::map<std::string, CLI::Option*> migrate_options;
  auto* migrate = app.add_subcommand(
      "migrate",
      "Bring a catalog (--data-dir's SQLite file, or --catalog postgres --catalog-url URL) to "
      "this binary's schema version; prints the version before and after");
  migrate->footer(
      "A catalog written by a newer duckmesh is refused unchanged (exit 1). Safe while servers "
      "run on the catalog: migrations apply in one transaction, one migrator at a time.");
  migrate->add_option("--config", config_file,
                      "JSON file of setting: value pairs [env DUCKMESH_CONFIG]");
  add_setting_flags(*migrate, migrate_values, migrate_options);

  duckmesh::app::OntoServeOptions onto_options;
  auto* onto_serve = app.add_subcommand(
      "onto-serve", "Serve the ontology files of a folder (the reference ontology server)");
  onto_serve->footer(
      "Faults change at run time: POST /faults on the control port with {\"latency_ms\", "
      "\"error_rate\", \"error_status\", \"down\"}.");
  onto_serve->add_option("--dir", onto_options.dir, "Folder of <schema_id>.json files")
      ->capture_default_str();
  onto_serve->add_option("--host", onto_options.host, "Address to listen on")
      ->capture_default_str();
  onto_serve->add_option("--port", onto_options.port, "Port (0: any free port)")
      ->capture_default_str();
  onto_serve
      ->add_option("--control-port", onto_options.control_port,
                   "Port of the fault control endpoint (0: any free port)")
      ->capture_default_str();
  onto_serve->add_option("--latency-ms", onto_options.latency_ms, "Delay before every answer")
      ->check(CLI::Range(0, 600'000));
  onto_serve
      ->add_option("--error-rate", onto_options.error_rate,
                   "Share of answers replaced by --error-status (0 to 1)")
      ->check(CLI::Range(0.0, 1.0));
  onto_serve->add_option("--error-status", onto_options.error_status, "Status of injected errors")
      ->check(CLI::Range(400, 599))
      ->capture_default_str();
  onto_serve->add_flag(
      "--down", onto_options.down,
      "Start down: connections are refused until the control endpoint brings it up");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*version) {
      std::cout << "duckmesh " << DUCKMESH_VERSION << " (DuckDB "
                << duckmesh::duck::library_version() << ")" << std::endl;
      return 0;
    }
    if (*ingest || *query || *shell || *dead_letters) {
      auto server = duckmesh::client::resolve_server(server_url, std::getenv("DUCKMESH_SERVER"));
      if (api_key.empty()) {
        const char* env_key = std::getenv("DUCKMESH_API_KEY");
        if (env_key) api_key = env_key;
      }
      server.api_key = api_key;
      auto console = duckmesh::client::Console::standard();
      if (*ingest) {
        ingest_command.server = server;
        ingest_command.wait = !no_wait;
        ingest_command.wait_timeout = std::chrono::seconds(wait_timeout_s);
        return duckmesh::client::run_ingest(ingest_command, console, std::cin);
      }
      if (*dead_letters) {
        dead_letters_command.server = server;
        dead_letters_command.action = *dead_replay
                                          ? duckmesh::client::DeadLettersCommand::Action::replay
                                          : duckmesh::client::DeadLettersCommand::Action::list;
        return duckmesh::client::run_dead_letters(dead_letters_command, console);
      }
      if (*query) {
        query_command.server = server;
        if (snapshot_option->count() > 0) query_command.spec.snapshot_id = query_snapshot;
        if (as_of_option->count() > 0) query_command.spec.as_of = query_as_of;
        if (max_rows_option->count() > 0) query_command.spec.max_rows = query_max_rows;
        return duckmesh::client::run_query(query_command, console, std::cin);
      }
      shell_command.server = server;
      shell_command.history_file = history_file.empty() ? duckmesh::client::default_history_file()
                                                        : std::filesystem::path(history_file);
      return duckmesh::client::run_shell(shell_command, console, std::cin);
    }
    for (std::size_t i = 0; i < maintenance.size(); ++i) {
      auto& m = maintenance[i];
      if (!*m.sub) continue;
      auto config = duckmesh::app::load_config(given_flags(m.values, m.options),
                                               duckmesh::app::process_environment(), config_file);
      if (i == 0) return duckmesh::app::run_compact(config, m.command, std::cout);
      if (i == 1) return duckmesh::app::run_expire(config, m.command, std::cout);
      return duckmesh::app::run_gc(config, m.command, std::cout);
    }
    if (*keys) {
      std::map<std::string, std::string> given;
      if (!keys_data_dir.empty()) given["data_dir"] = keys_data_dir;
      auto config =
          duckmesh::app::load_config(given, duckmesh::app::process_environment(), config_file);
      if (*keys_create) return duckmesh::app::run_keys_create(config, keys_command, std::cout);
      if (*keys_revoke) return duckmesh::app::run_keys_revoke(config, keys_command, std::cout);
      return duckmesh::app::run_keys_list(config, keys_command, std::cout);
    }
    if (*migrate) {
      auto config = duckmesh::app::load_config(given_flags(migrate_values, migrate_options),
                                               duckmesh::app::process_environment(), config_file);
      return duckmesh::app::run_migrate(config, std::cout);
    }
    if (*onto_serve) return duckmesh::app::onto_serve(onto_options);
    if (*serve) {
      auto config = duckmesh::app::load_config(given_flags(values, options),
                                               duckmesh::app::process_environment(), config_file);
      return duckmesh::app::serve(config);
    }
  } catch (const duckmesh::Error& e) {
    std::cerr << "duckmesh: " << e.what() << std::endl;
    return e.code() == duckmesh::ErrorCode::invalid_input ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "duckmesh: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
