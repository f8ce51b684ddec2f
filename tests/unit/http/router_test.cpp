#include "http/router.hpp"

#include <gtest/gtest.h>

namespace duckmesh::http {
namespace {

Request make(Verb verb, std::string path) {
  Request r;
  r.raw.method(verb);
  r.path = std::move(path);
  return r;
}

Handler answer(std::string text) {
  return [text](Request& r) {
    std::string params;
    for (auto& [k, v] : r.path_params) params += k + "=" + v + ";";
    return Response::text(200, text + "|" + params, "text/plain");
  };
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router;
  router.add(Verb::get, "/v1/products", auth::Access::public_route(), answer("list"));
  router.add(Verb::get, "/v1/products/{product}", auth::Access::public_route(), answer("one"));
  router.add(Verb::get, "/v1/products/{product}/tables/{table}", auth::Access::public_route(),
             answer("table"));
  auto r1 = make(Verb::get, "/v1/products");
  EXPECT_EQ(router.dispatch(r1).body, "list|");
  auto r2 = make(Verb::get, "/v1/products/sales");
  EXPECT_EQ(router.dispatch(r2).body, "one|product=sales;");
  EXPECT_EQ(r2.route, "/v1/products/{product}");
  auto r3 = make(Verb::get, "/v1/products/sales/tables/orders");
  EXPECT_EQ(router.dispatch(r3).body, "table|product=sales;table=orders;");
}

TEST(Router, LiteralWinsOverParameterAndBacktracks) {
  Router router;
  router.add(Verb::get, "/v1/products/search", auth::Access::public_route(), answer("search"));
  router.add(Verb::get, "/v1/products/{product}", auth::Access::public_route(), answer("one"));
  router.add(Verb::get, "/v1/products/{product}/snapshots", auth::Access::public_route(),
             answer("snaps"));
  auto r1 = make(Verb::get, "/v1/products/search");
  EXPECT_EQ(router.dispatch(r1).body, "search|");
  // "search" as a product name still reaches the parameter route below it.
  auto r2 = make(Verb::get, "/v1/products/search/snapshots");
  EXPECT_EQ(router.dispatch(r2).body, "snaps|product=search;");
}

TEST(Router, UnknownPathIsNotFound) {
  Router router;
  router.add(Verb::get, "/a", auth::Access::public_route(), answer("a"));
  auto r = make(Verb::get, "/b");
  try {
    router.dispatch(r);
    FAIL() << "expected not_found";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_EQ(e.details().at("path").as_string(), "/b");
  }
}

TEST(Router, WrongMethodIsMethodNotAllowedWithAllowList) {
  Router router;
  router.add(Verb::get, "/things", auth::Access::public_route(), answer("get"));
  router.add(Verb::post, "/things", auth::Access::public_route(), answer("post"));
  auto r = make(Verb::delete_, "/things");
  try {
    router.dispatch(r);
    FAIL() << "expected method_not_allowed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::method_not_allowed);
    EXPECT_EQ(e.details().at("allow").as_string(), "GET, POST");
    auto response = Response::from_error(e, "rid");
    EXPECT_EQ(response.status, 405u);
    bool has_allow = false;
    for (auto& [k, v] : response.headers) has_allow |= (k == "Allow" && v == "GET, POST");
    EXPECT_TRUE(has_allow);
  }
}

TEST(Router, HeadIsAnsweredByGet) {
  Router router;
  router.add(Verb::get, "/x", auth::Access::public_route(), answer("x"));
  auto r = make(Verb::head, "/x");
  EXPECT_EQ(router.dispatch(r).status, 200u);
}

TEST(Router, RefusesDuplicatesAndConflictingParameterNames) {
  Router router;
  router.add(Verb::get, "/a/{id}", auth::Access::public_route(), answer("a"));
  EXPECT_THROW(router.add(Verb::get, "/a/{id}", auth::Access::public_route(), answer("again")),
               Error);
  EXPECT_THROW(router.add(Verb::post, "/a/{other}", auth::Access::public_route(), answer("other")),
               Error);
  EXPECT_THROW(router.add(Verb::get, "no-slash", auth::Access::public_route(), answer("bad")),
               Error);
  EXPECT_EQ(router.routes().size(), 1u);
}

TEST(Router, TrailingAndRepeatedSlashesAreIgnored) {
  Router router;
  router.add(Verb::get, "/a/b", auth::Access::public_route(), answer("ab"));
  auto r = make(Verb::get, "//a/b/");
  EXPECT_EQ(router.dispatch(r).body, "ab|");
}

TEST(Router, MatchBindsTheRouteAndReturnsItsDeclaredAccess) {
  Router router;
  router.add(Verb::get, "/v1/products/{product}/tables",
             auth::Access::path_product(auth::Role::reader), answer("tables"));
  router.add(Verb::post, "/v1/products/{product}/tables",
             auth::Access::path_product(auth::Role::admin).audited("table.create"),
             answer("create"));
  auto r = make(Verb::post, "/v1/products/alpha/tables");
  const auto& route = router.match(r);
  EXPECT_EQ(route.pattern, "/v1/products/{product}/tables");
  EXPECT_EQ(route.access.role(), auth::Role::admin);
  EXPECT_EQ(route.access.audit_action(), "table.create");
  EXPECT_EQ(r.route, "/v1/products/{product}/tables");
  EXPECT_EQ(r.path_params.at("product"), "alpha");
  // Every entry of the route table carries the access it was added with.
  ASSERT_EQ(router.routes().size(), 2u);
  EXPECT_EQ(router.routes()[0].access.describe(), "reader of {product}");
  EXPECT_EQ(router.routes()[1].access.describe(), "admin of {product}");
}

TEST(Request, JsonBodyErrorsAreInvalidInput) {
  Request r;
  r.raw.body() = "{\"a\": ";
  try {
    r.json_body();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  }
  r.raw.body() = "";
  EXPECT_THROW(r.json_body(), Error);
  r.raw.body() = "{\"a\": 1}";
  EXPECT_EQ(r.json_body().as_object().at("a").as_int64(), 1);
}

}  // namespace
}  // namespace duckmesh::http
