#include "http/openapi.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace duckmesh::http {
namespace {

Handler ok() {
  return [](Request&) { return Response::json(200, boost::json::object{}); };
}

TEST(OpenApi, EveryRouteIsOneOperationAndNothingElse) {
  Router router;
  router.add(Verb::get, "/ops/{entity}", auth::Access::public_route(), ok(), "List");
  router.add(Verb::post, "/ops/{entity}", auth::Access::public_route(), ok(), "Create");
  router.add(Verb::patch, "/ops/{entity}/{id}", auth::Access::public_route(), ok(), "Patch");
  router.add(Verb::get, "/", auth::Access::public_route(), ok(), "Welcome");
  auto doc = openapi_document(router, {.title = "t", .version = "1", .description = "d"});
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  const auto& paths = doc.at("paths").as_object();
  std::size_t operations = 0;
  for (const auto& [path, item] : paths) operations += item.as_object().size();
  EXPECT_EQ(operations, router.routes().size());
  for (const auto& r : router.routes()) {
    std::string method(to_string(r.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    ASSERT_TRUE(paths.contains(r.pattern)) << r.pattern;
    ASSERT_TRUE(paths.at(r.pattern).as_object().contains(method)) << method << " " << r.pattern;
    EXPECT_EQ(paths.at(r.pattern).at(method).at("summary"), r.summary.c_str());
  }
  const auto& patch = paths.at("/ops/{entity}/{id}").at("patch").as_object();
  ASSERT_EQ(patch.at("parameters").as_array().size(), 2u);
  EXPECT_EQ(patch.at("parameters").as_array()[1].at("name"), "id");
  EXPECT_EQ(patch.at("operationId"), "patch_ops_entity_id");
  EXPECT_TRUE(patch.contains("requestBody"));
  EXPECT_FALSE(paths.at("/").at("get").as_object().contains("parameters"));
}

}  // namespace
}  // namespace duckmesh::http
