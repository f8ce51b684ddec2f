// duckmesh: one binary for every role of the service.
#include "app/config.hpp"
#include "app/serve.hpp"
#include "common/error.hpp"
#include "duck/database.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>

namespace {

// Adds one flag per setting to `command`; given flags land in `given`.
void add_setting_flags(CLI::App& command, std::map<std::string, std::string>& values,
                       std::map<std::string, CLI::Option*>& options) {
  for (const auto& setting : duckmesh::app::settings()) {
    std::string env;
    for (const auto& name : setting.env) env += (env.empty() ? " [env " : ", ") + name;
    if (!env.empty()) env += "]";
    options[setting.key] =
        command.add_option(duckmesh::app::flag_name(setting.key), values[setting.key],
                           setting.help + env);
  }
}

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
                    "JSON file of setting: value pairs (flags and environment override it) [env DUCKMESH_CONFIG]");
  add_setting_flags(*serve, values, options);

  auto* version = app.add_subcommand("version", "Print the DuckMesh and DuckDB versions");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*version) {
      std::cout << "duckmesh " << DUCKMESH_VERSION << " (DuckDB " << duckmesh::duck::library_version()
                << ")" << std::endl;
      return 0;
    }
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
