#include "app/onto_serve.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "auth/access.hpp"
#include "common/error.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "obs/log.hpp"

namespace duckmesh::app {
namespace {

struct Faults {
  std::mutex mutex;
  std::int64_t latency_ms = 0;
  double error_rate = 0;
  unsigned error_status = 500;
  bool down = false;
  std::mt19937_64 random{std::random_device{}()};

  boost::json::object to_json() {
    std::lock_guard lock(mutex);
    return {{"latency_ms", latency_ms},
            {"error_rate", error_rate},
            {"error_status", error_status},
            {"down", down}};
  }
};

bool is_schema_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return id.find("..") == std::string::npos;
}

// Applies latency and errors; returns an error response when this answer is
// to fail.
std::optional<http::Response> inject(Faults& faults) {
  std::int64_t latency;
  bool fail;
  unsigned status;
  {
    std::lock_guard lock(faults.mutex);
    latency = faults.latency_ms;
    status = faults.error_status;
    fail = faults.error_rate > 0 &&
           std::uniform_real_distribution<double>(0, 1)(faults.random) < faults.error_rate;
  }
  if (latency > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency));
  if (fail) {
    return http::Response::json(
        status, {{"error", {{"code", "injected"}, {"message", "fault injected by onto-serve"}}}});
  }
  return std::nullopt;
}

void add_schema_routes(http::Router& router, const std::filesystem::path& dir, Faults& faults) {
  router.add(
      http::Verb::get, "/schemas", auth::Access::public_route(),
      [&dir, &faults](http::Request&) {
        if (auto e = inject(faults)) return *e;
        std::vector<std::string> ids;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
          if (entry.is_regular_file() && entry.path().extension() == ".json")
            ids.push_back(entry.path().stem().string());
        }
        std::sort(ids.begin(), ids.end());
        boost::json::array out;
        for (auto& id : ids) out.emplace_back(id);
        return http::Response::json(200, out);
      },
      "Ids of the published schemas");
  router.add(
      http::Verb::get, "/schemas/{schema_id}", auth::Access::public_route(),
      [&dir, &faults](http::Request& request) {
        if (auto e = inject(faults)) return *e;
        const auto& id = request.path_param("schema_id");
        auto path = dir / (id + ".json");
        std::ifstream in(path, std::ios::binary);
        if (!is_schema_id(id) || !in) {
          throw Error(ErrorCode::not_found, "no schema '" + id + "'", {{"schema_id", id}});
        }
        std::ostringstream s;
        s << in.rdbuf();
        return http::Response::text(200, s.str(), "application/json");
      },
      "One published schema");
  router.add(
      http::Verb::get, "/health", auth::Access::public_route(),
      [&faults](http::Request&) {
        if (auto e = inject(faults)) return *e;
        return http::Response::json(200, {{"status", "healthy"}});
      },
      "Health of the ontology server");
}

double number_field(const boost::json::object& o, const char* name, double min, double max) {
  const auto& v = o.at(name);
  if (!v.is_number() || v.to_number<double>() < min || v.to_number<double>() > max) {
    throw Error(ErrorCode::invalid_input,
                std::string("field '") + name + "' must be a number from " + std::to_string(min) +
                    " to " + std::to_string(max),
                {{"field", name}});
  }
  return v.to_number<double>();
}

}  // namespace

int onto_serve(const OntoServeOptions& options) {
  log::init(log::Level::info);
  std::filesystem::path dir = options.dir;
  if (!std::filesystem::is_directory(dir)) {
    throw Error(ErrorCode::invalid_input, "--dir '" + options.dir + "' is not a folder");
  }
  Faults faults;
  faults.latency_ms = options.latency_ms;
  faults.error_rate = options.error_rate;
  faults.error_status = options.error_status;

  http::Router schemas;
  add_schema_routes(schemas, dir, faults);
  http::Handler schema_handler =
      http::chain({http::request_id(), http::access_log(), http::errors()},
                  [&schemas](http::Request& request) { return schemas.dispatch(request); });

  http::ServerOptions data_options;
  data_options.host = options.host;
  data_options.port = options.port;
  data_options.worker_threads = 8;

  // The data server is stopped while "down" and rebuilt on the same port
  // when it comes back, so clients see refused connections in between.
  std::mutex server_mutex;
  std::unique_ptr<http::Server> data_server;
  auto bring_up = [&] {
    data_server = std::make_unique<http::Server>(data_options, schema_handler);
    data_server->start();
    data_options.port = data_server->port();
  };
  auto bring_down = [&] {
    if (data_server) data_server->stop(std::chrono::milliseconds(0));
    data_server.reset();
  };
  bring_up();
  if (options.down) {
    bring_down();
    faults.down = true;
  }

  http::Router control;
  control.add(
      http::Verb::get, "/faults", auth::Access::public_route(),
      [&faults](http::Request&) { return http::Response::json(200, faults.to_json()); },
      "The injected faults");
  control.add(
      http::Verb::post, "/faults", auth::Access::public_route(),
      [&](http::Request& request) {
        auto body = request.json_body();
        if (!body.is_object()) throw Error(ErrorCode::invalid_input, "body must be an object");
        const auto& o = body.as_object();
        std::optional<bool> down;
        {
          std::lock_guard lock(faults.mutex);
          if (o.contains("latency_ms"))
            faults.latency_ms =
                static_cast<std::int64_t>(number_field(o, "latency_ms", 0, 600'000));
          if (o.contains("error_rate")) faults.error_rate = number_field(o, "error_rate", 0, 1);
          if (o.contains("error_status"))
            faults.error_status = static_cast<unsigned>(number_field(o, "error_status", 400, 599));
          if (o.contains("down")) {
            if (!o.at("down").is_bool())
              throw Error(ErrorCode::invalid_input, "field 'down' must be true or false");
            down = o.at("down").as_bool();
          }
        }
        if (down) {
          std::lock_guard lock(server_mutex);
          if (*down && !faults.down) bring_down();
          if (!*down && faults.down) bring_up();
          std::lock_guard flock(faults.mutex);
          faults.down = *down;
        }
        log::info("faults changed", faults.to_json());
        return http::Response::json(200, faults.to_json());
      },
      "Change the injected faults");
  http::Handler control_handler =
      http::chain({http::request_id(), http::errors()},
                  [&control](http::Request& request) { return control.dispatch(request); });
  http::ServerOptions control_options;
  control_options.host = options.host;
  control_options.port = options.control_port;
  http::Server control_server(control_options, control_handler);
  control_server.start();

  std::cout << "onto-serve control on http://" << options.host << ":" << control_server.port()
            << std::endl;
  std::cout << "onto-serve listening on http://" << options.host << ":" << data_options.port
            << std::endl;
  log::info("onto-serve started", {{"dir", dir.string()},
                                   {"port", data_options.port},
                                   {"control_port", control_server.port()},
                                   {"faults", faults.to_json()}});
  control_server.run_until_signal(std::chrono::milliseconds(1000));
  std::lock_guard lock(server_mutex);
  bring_down();
  return 0;
}

}  // namespace duckmesh::app
