#include "api/admin.hpp"

#include <boost/json.hpp>

#include "auth/access.hpp"
#include "obs/log.hpp"

namespace duckmesh::api {

void add_admin_routes(http::Router& router) {
  router.add(
      http::Verb::get, "/admin/logging/level", auth::Access::superadmin(),
      [](http::Request&) {
        return http::Response::json(200, {{"level", log::to_string(log::level())}});
      },
      "The current log level");

  router.add(
      http::Verb::post, "/admin/logging/level",
      auth::Access::superadmin().audited("logging.set_level"),
      [](http::Request& request) {
        auto body = request.json_body();
        const char* allowed = "one of trace, debug, info, warn, error";
        if (!body.is_object() || !body.as_object().contains("level") ||
            !body.as_object().at("level").is_string()) {
          throw Error(ErrorCode::invalid_input,
                      "field 'level' is required and must be a string: " + std::string(allowed),
                      {{"field", "level"}, {"allowed", allowed}});
        }
        std::string wanted(body.as_object().at("level").as_string());
        auto level = log::parse_level(wanted);
        if (!level) {
          throw Error(ErrorCode::invalid_input,
                      "field 'level' has invalid value '" + wanted + "': " + allowed,
                      {{"field", "level"}, {"value", wanted}, {"allowed", allowed}});
        }
        auto previous = log::level();
        log::set_level(*level);
        log::write(log::Level::warn, "log level changed",
                   {{"from", log::to_string(previous)}, {"to", log::to_string(*level)}});
        return http::Response::json(
            200, {{"level", log::to_string(*level)}, {"previous", log::to_string(previous)}});
      },
      "Change the log level at run time");
}

}  // namespace duckmesh::api
