// The authorize and audit links of the chain over a real SQLite catalog.
#include "http/auth_middleware.hpp"

#include <gtest/gtest.h>

#include "catalog/sqlite/sqlite_catalog.hpp"
#include "obs/metrics.hpp"
#include "support/service_process.hpp"

namespace duckmesh::http {
namespace {

using auth::Access;
using auth::Role;

class AuthMiddlewareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog::SqliteCatalogOptions options;
    options.path = (dir_.path() / "catalog.sqlite").string();
    catalog_ = std::make_unique<catalog::SqliteCatalog>(options);
    catalog_->create_product({"alpha", "", ""});
    keys_ = std::make_unique<auth::KeyService>(*catalog_);
    authenticator_ = std::make_unique<auth::Authenticator>(*keys_, nullptr, false);
    audit_ = std::make_unique<auth::AuditLog>(*catalog_);

    auto who = [](Request& r) {
      boost::json::object o{{"identity", r.identity ? r.identity->subject : "none"},
                            {"key_id", r.identity ? r.identity->key_id : ""},
                            {"scope", r.scope_product}};
      return Response::json(200, o);
    };
    router_.add(Verb::get, "/open", Access::public_route(), who);
    router_.add(Verb::get, "/v1/products/{product}/x", Access::path_product(Role::reader), who);
    router_.add(Verb::post, "/v1/products/{product}/do",
                Access::path_product(Role::admin).audited("thing.do"), [](Request& r) {
                  if (r.body() == "fail") throw Error(ErrorCode::conflict, "it clashes");
                  return Response::json(201, {{"id", "t1"}});
                });
    handler_ = chain({errors(), authorize(router_, *authenticator_), audit(*audit_)},
                     [this](Request& r) { return router_.dispatch(r); });
  }

  Response send(Verb verb, const std::string& path, const std::string& key = {},
                const std::string& body = {}) {
    Request r;
    r.raw.method(verb);
    r.path = path;
    r.request_id = "rid-1";
    if (!key.empty()) r.raw.set("Authorization", "Bearer " + key);
    r.raw.body() = body;
    return handler_(r);
  }

  static std::string header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  testing::TempDir dir_;
  std::unique_ptr<catalog::SqliteCatalog> catalog_;
  std::unique_ptr<auth::KeyService> keys_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<auth::AuditLog> audit_;
  Router router_;
  Handler handler_;
};

double failures(const std::string& reason) {
  auto text = obs::Registry::global().expose();
  std::string series = "duckmesh_auth_failures_total{reason=\"" + reason + "\"} ";
  auto at = text.find(series);
  return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size()));
}

TEST_F(AuthMiddlewareTest, PublicRoutesNeedNoCredentialsAndCarryNoIdentity) {
  auto r = send(Verb::get, "/open");
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("\"identity\":\"none\""), std::string::npos) << r.body;
}

TEST_F(AuthMiddlewareTest, MissingCredentialsAre401WithAChallengeAndCounted) {
  double before = failures("missing_credentials");
  auto r = send(Verb::get, "/v1/products/alpha/x");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer realm=\"duckmesh\"");
  EXPECT_NE(r.body.find("\"request_id\":\"rid-1\""), std::string::npos) << r.body;
  EXPECT_EQ(failures("missing_credentials"), before + 1);
}

TEST_F(AuthMiddlewareTest, TheIdentityAndProductReachTheHandler) {
  auto reader = keys_->create("alpha", Role::reader);
  auto r = send(Verb::get, "/v1/products/alpha/x", reader.token);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find("\"key_id\":\"" + reader.record.id + "\""), std::string::npos);
  EXPECT_NE(r.body.find("\"scope\":\"alpha\""), std::string::npos);
  auto other = send(Verb::get, "/v1/products/beta/x", reader.token);
  EXPECT_EQ(other.status, 403u);
  EXPECT_EQ(header(other, "WWW-Authenticate"), "");
}

TEST_F(AuthMiddlewareTest, AuditedRoutesRecordTheOutcomeButNotRefusals) {
  auto reader = keys_->create("alpha", Role::reader);
  auto admin = keys_->create("alpha", Role::admin);
  EXPECT_EQ(send(Verb::post, "/v1/products/alpha/do", reader.token).status, 403u);
  EXPECT_TRUE(audit_->list("", 0, 10).empty()) << "refused before the action";
  EXPECT_EQ(send(Verb::post, "/v1/products/alpha/do", admin.token).status, 201u);
  EXPECT_EQ(send(Verb::post, "/v1/products/alpha/do", admin.token, "fail").status, 409u);
  auto entries = audit_->list("alpha", 0, 10);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].outcome, "conflict");
  EXPECT_EQ(entries[1].outcome, "success");
  for (const auto& e : entries) {
    EXPECT_EQ(e.actor, "key:" + admin.record.id);
    EXPECT_EQ(e.action, "thing.do");
    EXPECT_EQ(e.target, "POST /v1/products/alpha/do");
  }
  EXPECT_NE(entries[1].details_json.find("\"id\":\"t1\""), std::string::npos)
      << entries[1].details_json;
  EXPECT_NE(entries[0].details_json.find("it clashes"), std::string::npos);
}

}  // namespace
}  // namespace duckmesh::http
