// Authentication, per-product authorization and the audit log, against the
// real binary with authentication on (the default).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>

#include "support/http_client.hpp"
#include "support/jwt.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

using boost::beast::http::verb;

constexpr const char* kSecret = "integration-test-hs256-secret-0123456789";

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first line of a `duckmesh keys create` run: the key.
std::string create_key_cli(const std::filesystem::path& data, std::vector<std::string> args) {
  std::vector<std::string> all = {"keys", "create", "--data-dir", data.string()};
  all.insert(all.end(), args.begin(), args.end());
  auto r = run_binary(all);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.out.substr(0, r.out.find('\n'));
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    std::filesystem::create_directories(data_);
    root_ = create_key_cli(data_, {"--role", "superadmin"});
    ASSERT_EQ(root_.rfind("dmk_", 0), 0u) << root_;
    service_ = std::make_unique<ServiceProcess>(
        data_,
        std::vector<std::string>{"--onto-server-url", "http://127.0.0.1:9", "--jwt-hs256-secret",
                                 kSecret, "--jwt-audience", "duckmesh-test", "--jwt-issuer",
                                 "test-issuer"},
        std::map<std::string, std::string>{}, Auth::required);
    for (std::string p : {"alpha", "beta"}) {
      auto r = call(verb::post, "/v1/products", root_, R"({"name":")" + p + R"("})");
      ASSERT_EQ(r.status, 201u) << r.body;
      auto t = call(verb::post, "/v1/products/" + p + "/tables", root_,
                    R"({"name":"orders","columns":[{"name":"id","type":"bigint"}]})");
      ASSERT_EQ(t.status, 201u) << t.body;
    }
    alpha_admin_ = product_key("alpha", "admin");
    alpha_reader_ = product_key("alpha", "reader");
    beta_admin_ = product_key("beta", "admin");
  }

  HttpClient client() { return HttpClient("127.0.0.1", service_->port()); }

  HttpResponse call(verb method, const std::string& target, const std::string& key,
                    const std::string& body = {}) {
    std::map<std::string, std::string> headers;
    if (!key.empty()) headers["Authorization"] = "Bearer " + key;
    return client().request(method, target, body, headers);
  }

  std::string product_key(const std::string& product, const std::string& role) {
    auto r = call(verb::post, "/v1/products/" + product + "/keys", root_,
                  R"({"role":")" + role + R"("})");
    EXPECT_EQ(r.status, 201u) << r.body;
    return std::string(r.json().at("key").as_string());
  }

  boost::json::object claims(const std::string& role = "reader",
                             const std::string& product = "alpha") {
    return {{"sub", "carol"},       {"iss", "test-issuer"},  {"aud", "duckmesh-test"},
            {"exp", now_s() + 300}, {"duckmesh_role", role}, {"duckmesh_product", product}};
  }

  double failures(const std::string& reason) {
    auto text = client().get("/metrics").body;
    std::string series = "duckmesh_auth_failures_total{reason=\"" + reason + "\"} ";
    auto at = text.find(series);
    return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size()));
  }

  static std::string error_reason(const HttpResponse& r) {
    auto body = r.json();
    auto* details = body.at("error").as_object().if_contains("details");
    if (!details || !details->as_object().contains("reason")) return "";
    return std::string(details->at("reason").as_string());
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::unique_ptr<ServiceProcess> service_;
  std::string root_, alpha_admin_, alpha_reader_, beta_admin_;
};

TEST_F(AuthTest, MissingCredentialsAre401WithWwwAuthenticateAndTheErrorBody) {
  double before = failures("missing_credentials");
  auto r = client().get("/v1/products/alpha");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"duckmesh\"");
  auto error = r.json().at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "unauthorized");
  EXPECT_FALSE(error.at("message").as_string().empty());
  EXPECT_EQ(error.at("request_id").as_string(), r.header("x-request-id"));
  EXPECT_EQ(failures("missing_credentials"), before + 1);
  // Public routes need nothing.
  EXPECT_EQ(client().get("/monitoring/health").status, 200u);
  EXPECT_EQ(client().get("/openapi.json").status, 200u);
}

TEST_F(AuthTest, MalformedCredentialsAre401) {
  for (const auto& header : std::vector<std::pair<std::string, std::string>>{
           {"Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
           {"Authorization", "Bearer "},
           {"Authorization", "Bearer dmk_short"},
           {"Authorization", "Bearer not-a-jwt"},
           {"X-API-Key", "not-a-key"}}) {
    auto r = client().request(verb::get, "/v1/products/alpha", "", {header});
    EXPECT_EQ(r.status, 401u) << header.first << ": " << header.second << " " << r.body;
    EXPECT_NE(r.header("www-authenticate").find("invalid_token"), std::string::npos);
  }
  // Both headers at once: refused, a request never acts as two callers.
  auto both = client().request(
      verb::get, "/v1/products/alpha", "",
      {{"Authorization", "Bearer " + alpha_reader_}, {"X-API-Key", alpha_reader_}});
  EXPECT_EQ(both.status, 401u);
}

TEST_F(AuthTest, KeysWorkInEitherHeaderAndRecordTheirLastUse) {
  EXPECT_EQ(call(verb::get, "/v1/products/alpha", alpha_reader_).status, 200u);
  auto r =
      client().request(verb::get, "/v1/products/alpha/tables", "", {{"X-API-Key", alpha_reader_}});
  EXPECT_EQ(r.status, 200u) << r.body;
  auto keys = call(verb::get, "/v1/products/alpha/keys", alpha_admin_).json();
  std::string reader_id = alpha_reader_.substr(4, 12);
  bool seen = false;
  for (const auto& k : keys.at("keys").as_array()) {
    EXPECT_FALSE(k.as_object().contains("secret_hash"));
    if (k.at("id").as_string() == reader_id) {
      seen = true;
      EXPECT_TRUE(k.at("last_used_unix_us").is_int64());
      EXPECT_EQ(k.at("role").as_string(), "reader");
    }
  }
  EXPECT_TRUE(seen);
  // The CLI lists it too.
  auto list = run_binary({"keys", "list", "--data-dir", data_.string(), "--product", "alpha"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(reader_id), std::string::npos) << list.out;
}

TEST_F(AuthTest, JwtPathsExpiredAudienceIssuerSignatureAndAlgNone) {
  auto jwt_status = [&](const std::string& token) {
    return call(verb::get, "/v1/products/alpha", token).status;
  };
  EXPECT_EQ(jwt_status(hs256_jwt(claims(), kSecret)), 200u);
  auto expired = claims();
  expired["exp"] = now_s() - 3600;
  auto r = call(verb::get, "/v1/products/alpha", hs256_jwt(expired, kSecret));
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(error_reason(r), "expired");
  auto aud = claims();
  aud["aud"] = "another-service";
  r = call(verb::get, "/v1/products/alpha", hs256_jwt(aud, kSecret));
  EXPECT_EQ(error_reason(r), "wrong_audience");
  auto iss = claims();
  iss["iss"] = "someone-else";
  r = call(verb::get, "/v1/products/alpha", hs256_jwt(iss, kSecret));
  EXPECT_EQ(error_reason(r), "wrong_issuer");
  r = call(verb::get, "/v1/products/alpha",
           hs256_jwt(claims(), "a-different-secret-of-sufficient-length"));
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(error_reason(r), "bad_signature");
  r = call(verb::get, "/v1/products/alpha",
           jwt_signing_input({{"alg", "none"}, {"typ", "JWT"}}, claims("superadmin")) + ".");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(error_reason(r), "alg_not_allowed");
  RsaKey rsa;  // RS256 is not configured on this node
  EXPECT_EQ(jwt_status(rsa.sign(claims())), 401u);
  // A valid token for alpha does not open beta; a reader token cannot ingest.
  EXPECT_EQ(call(verb::get, "/v1/products/beta", hs256_jwt(claims(), kSecret)).status, 403u);
  EXPECT_EQ(call(verb::post, "/v1/products/alpha/tables/orders/events",
                 hs256_jwt(claims("reader"), kSecret), R"([{"id":1}])")
                .status,
            403u);
  EXPECT_EQ(call(verb::post, "/v1/products/alpha/tables/orders/events",
                 hs256_jwt(claims("writer"), kSecret), R"([{"id":1}])")
                .status,
            202u);
  EXPECT_GE(failures("expired"), 1);
  EXPECT_GE(failures("bad_signature"), 1);
}

TEST_F(AuthTest, RevokedKeysAreRefusedOverHttpAndFromTheCli) {
  auto writer = product_key("alpha", "writer");
  std::string id = writer.substr(4, 12);
  EXPECT_EQ(call(verb::get, "/v1/products/alpha", writer).status, 200u);
  // Another product's admin cannot revoke it, and learns nothing of it.
  EXPECT_EQ(call(verb::delete_, "/v1/products/alpha/keys/" + id, beta_admin_).status, 403u);
  EXPECT_EQ(call(verb::delete_, "/v1/products/beta/keys/" + id, beta_admin_).status, 404u);
  auto revoke = call(verb::delete_, "/v1/products/alpha/keys/" + id, alpha_admin_);
  ASSERT_EQ(revoke.status, 200u) << revoke.body;
  EXPECT_TRUE(revoke.json().at("revoked").as_bool());
  auto r = call(verb::get, "/v1/products/alpha", writer);
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(error_reason(r), "revoked_key");

  // Revoked with the CLI while the server runs: refused on the next request.
  auto reader = product_key("alpha", "reader");
  EXPECT_EQ(call(verb::get, "/v1/products/alpha", reader).status, 200u);
  auto cli = run_binary({"keys", "revoke", "--data-dir", data_.string(), reader.substr(4, 12)});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(call(verb::get, "/v1/products/alpha", reader).status, 401u);
  EXPECT_NE(run_binary({"keys", "revoke", "--data-dir", data_.string(), "000000000000"}).exit_code,
            0);
}

TEST_F(AuthTest, RolesRankReaderWriterAdmin) {
  auto writer = product_key("alpha", "writer");
  const std::string events = "/v1/products/alpha/tables/orders/events";
  auto r = call(verb::post, events, alpha_reader_, R"([{"id":1}])");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(error_reason(r), "insufficient_role");
  EXPECT_EQ(call(verb::post, events, writer, R"([{"id":1}])").status, 202u);
  EXPECT_EQ(
      call(verb::post, "/v1/products/alpha/query", alpha_reader_, R"({"sql":"SELECT 1"})").status,
      200u);
  const std::string table = R"({"name":"more","columns":[{"name":"id","type":"bigint"}]})";
  EXPECT_EQ(call(verb::post, "/v1/products/alpha/tables", writer, table).status, 403u);
  EXPECT_EQ(call(verb::post, "/v1/products/alpha/tables", alpha_admin_, table).status, 201u);
  // Keys: admins only, and never above admin.
  EXPECT_EQ(call(verb::post, "/v1/products/alpha/keys", writer, R"({"role":"reader"})").status,
            403u);
  EXPECT_EQ(
      call(verb::post, "/v1/products/alpha/keys", alpha_admin_, R"({"role":"superadmin"})").status,
      400u);
  // Creating products and node settings: superadmin only.
  EXPECT_EQ(call(verb::post, "/v1/products", alpha_admin_, R"({"name":"gamma"})").status, 403u);
  EXPECT_EQ(call(verb::get, "/admin/logging/level", alpha_admin_).status, 403u);
  EXPECT_EQ(call(verb::get, "/admin/logging/level", root_).status, 200u);
}

TEST_F(AuthTest, ProductListShowsOnlyWhatTheCallerMayRead) {
  auto names = [&](const std::string& key) {
    std::set<std::string> out;
    auto body = call(verb::get, "/v1/products", key).json();
    for (const auto& p : body.at("products").as_array())
      out.insert(std::string(p.at("name").as_string()));
    return out;
  };
  EXPECT_EQ(names(alpha_reader_), (std::set<std::string>{"alpha"}));
  EXPECT_EQ(names(beta_admin_), (std::set<std::string>{"beta"}));
  auto all = names(root_);
  EXPECT_TRUE(all.count("alpha") && all.count("beta") && all.count("default"));
}

// Every route of the route table, called with the other product's admin key:
// each one that touches product data answers 403. The same 403 whether the
// target exists or not, so existence is not revealed either.
TEST_F(AuthTest, AnotherProductsKeyIsRefusedOnEveryRoute) {
  auto doc = client().get("/openapi.json").json();
  const std::set<std::string> public_routes = {
      "/", "/openapi.json", "/docs", "/monitoring/health", "/metrics", "/monitoring/metrics"};
  std::size_t checked = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      std::string kind(op.at("x-duckmesh-access-kind").as_string());
      std::string pattern(path);
      if (kind == "public") {
        EXPECT_TRUE(public_routes.count(pattern))
            << method << " " << pattern << " is public but not meant to be";
        continue;
      }
      std::string target = std::regex_replace(pattern, std::regex("\\{product\\}"), "beta");
      target = std::regex_replace(target, std::regex("\\{entity\\}"), "projects");
      target = std::regex_replace(target, std::regex("\\{snapshot\\}"), "1");
      target = std::regex_replace(target, std::regex("\\{[a-z_]+\\}"), "x");
      target += "?product=beta";
      verb v = boost::beast::http::string_to_verb([&] {
        std::string upper(method);
        for (auto& c : upper) c = static_cast<char>(std::toupper(c));
        return upper;
      }());
      auto r = call(v, target, alpha_admin_, v == verb::get ? "" : "{}");
      ++checked;
      if (kind == "any_identity") {
        EXPECT_EQ(r.status, 200u) << method << " " << target << " " << r.body;
        EXPECT_EQ(r.body.find("\"beta\""), std::string::npos) << target << " " << r.body;
        continue;
      }
      EXPECT_EQ(r.status, 403u) << method << " " << target << " " << r.body;
      EXPECT_EQ(r.json().at("error").at("code").as_string(), "forbidden") << target;
    }
  }
  EXPECT_GE(checked, 30u) << "the route table looks too small";
  // And beta's data is untouched: still one table, no events, no new keys.
  auto tables = call(verb::get, "/v1/products/beta/tables", beta_admin_).json();
  EXPECT_EQ(tables.at("tables").as_array().size(), 1u);
}

TEST_F(AuthTest, AdminActionsAreAuditedAndVisibleToTheirProductOnly) {
  // A failed admin action is audited with its error code.
  auto bad = call(verb::post, "/v1/products/alpha/tables", alpha_admin_, R"({"name":"x"})");
  ASSERT_GE(bad.status, 400u) << bad.body;
  std::string bad_code(bad.json().at("error").at("code").as_string());
  EXPECT_EQ(call(verb::delete_, "/v1/products/alpha/tables/orders", alpha_admin_).status, 200u);

  auto all = call(verb::get, "/v1/audit?limit=1000", root_);
  ASSERT_EQ(all.status, 200u) << all.body;
  std::string root_id = "key:" + root_.substr(4, 12);
  std::string admin_id = "key:" + alpha_admin_.substr(4, 12);
  std::map<std::string, int> actions;
  bool saw_failure = false, saw_drop = false, saw_cli = false;
  auto all_entries = all.json();
  for (const auto& e : all_entries.at("entries").as_array()) {
    std::string action(e.at("action").as_string());
    ++actions[action];
    if (action == "product.create") {
      EXPECT_EQ(e.at("actor").as_string(), root_id);
      EXPECT_EQ(e.at("outcome").as_string(), "success");
      EXPECT_EQ(e.at("target").as_string(), "POST /v1/products");
    }
    if (action == "table.create" && e.at("outcome") != "success") {
      saw_failure = true;
      EXPECT_EQ(e.at("actor").as_string(), admin_id);
      EXPECT_EQ(e.at("product").as_string(), "alpha");
      EXPECT_EQ(e.at("outcome").as_string(), bad_code) << boost::json::serialize(e);
    }
    if (action == "table.drop") {
      saw_drop = true;
      EXPECT_EQ(e.at("target").as_string(), "DELETE /v1/products/alpha/tables/orders");
      EXPECT_GT(e.at("at_unix_us").as_int64(), 0);
    }
    if (action == "key.create" && e.at("actor").as_string().starts_with("cli:")) saw_cli = true;
  }
  EXPECT_EQ(actions["product.create"], 2);
  EXPECT_GE(actions["key.create"], 3);
  EXPECT_TRUE(saw_failure && saw_drop && saw_cli);

  // A product admin sees their product's entries only.
  auto mine = call(verb::get, "/v1/audit?product=alpha", alpha_admin_);
  ASSERT_EQ(mine.status, 200u) << mine.body;
  auto mine_entries = mine.json();
  ASSERT_FALSE(mine_entries.at("entries").as_array().empty());
  for (const auto& e : mine_entries.at("entries").as_array())
    EXPECT_EQ(e.at("product").as_string(), "alpha");
  EXPECT_EQ(call(verb::get, "/v1/audit?product=beta", alpha_admin_).status, 403u);
  EXPECT_EQ(call(verb::get, "/v1/audit", alpha_admin_).status, 403u);
  EXPECT_EQ(call(verb::get, "/v1/audit?product=alpha", alpha_reader_).status, 403u);
  // limit and since.
  EXPECT_EQ(call(verb::get, "/v1/audit?limit=1", root_).json().at("entries").as_array().size(), 1u);
  auto future = std::to_string(now_s() + 3600);
  EXPECT_TRUE(
      call(verb::get, "/v1/audit?since=" + future, root_).json().at("entries").as_array().empty());
  EXPECT_FALSE(call(verb::get, "/v1/audit?since=2000-01-01T00:00:00Z", root_)
                   .json()
                   .at("entries")
                   .as_array()
                   .empty());
  EXPECT_EQ(call(verb::get, "/v1/audit?since=yesterday", root_).status, 400u);
}

TEST_F(AuthTest, CommandLineClientsSendTheKey) {
  std::string server = "http://127.0.0.1:" + std::to_string(service_->port());
  auto without = run_binary({"query", "--server", server, "--product", "alpha", "SELECT 1 AS x"});
  EXPECT_EQ(without.exit_code, 1) << without.out << without.err;
  auto with = run_binary({"query", "--server", server, "--product", "alpha", "--api-key",
                          alpha_reader_, "SELECT 1 AS x"});
  EXPECT_EQ(with.exit_code, 0) << with.out << with.err;
  auto env = run_binary({"query", "--server", server, "--product", "alpha", "SELECT 1 AS x"},
                        {{"DUCKMESH_API_KEY", alpha_reader_}});
  EXPECT_EQ(env.exit_code, 0) << env.out << env.err;
}

TEST_F(AuthTest, HealthSaysAuthenticationIsOn) {
  auto health = client().get("/monitoring/health").json();
  EXPECT_EQ(health.at("checks").at("auth").at("status").as_string(), "healthy");
  EXPECT_TRUE(health.at("checks").at("auth").at("enabled").as_bool());
  EXPECT_FALSE(health.as_object().contains("warnings"));
}

// RS256 with the public key from a PEM file, and JWKS keys chosen by kid,
// as configured on the command line.
TEST(JwtKeyFiles, Rs256FromAPemFileAndFromAJwksFile) {
  TempDir dir;
  RsaKey pem_key, jwks_key;
  auto pem = dir.path() / "public.pem";
  std::ofstream(pem) << pem_key.public_pem();
  auto jwks = dir.path() / "jwks.json";
  std::ofstream(jwks) << boost::json::serialize(
      boost::json::object{{"keys", boost::json::array{jwks_key.jwk("k1")}}});
  ServiceProcess service(dir.path() / "data",
                         {"--onto-server-url", "http://127.0.0.1:9", "--jwt-public-key-file",
                          pem.string(), "--jwt-jwks-file", jwks.string()},
                         {}, Auth::required);
  HttpClient c("127.0.0.1", service.port());
  boost::json::object claims{
      {"sub", "ops"}, {"exp", now_s() + 60}, {"duckmesh_role", "superadmin"}};
  auto get = [&](const std::string& token) {
    return c.request(verb::get, "/v1/products", "", {{"Authorization", "Bearer " + token}}).status;
  };
  EXPECT_EQ(get(pem_key.sign(claims)), 200u);
  EXPECT_EQ(get(jwks_key.sign(claims, {{"alg", "RS256"}, {"kid", "k1"}})), 200u);
  EXPECT_EQ(get(jwks_key.sign(claims)), 401u) << "without a kid only the PEM key applies";
  EXPECT_EQ(get(pem_key.sign(claims, {{"alg", "RS256"}, {"kid", "k1"}})), 401u);
  EXPECT_EQ(get(hs256_jwt(claims, pem_key.public_pem())), 401u) << "no HS256 secret configured";
}

TEST(JwtKeyFiles, AnUnreadableKeyFileStopsTheStartNamingTheSetting) {
  TempDir dir;
  auto r =
      run_binary({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "data").string(),
                  "--jwt-public-key-file", (dir.path() / "missing.pem").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("jwt_public_key_file"), std::string::npos) << r.err;
}

TEST(InsecureNoAuth, SaysSoLoudlyInLogsAndHealth) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data", {"--onto-server-url", "http://127.0.0.1:9"});
  HttpClient c("127.0.0.1", service.port());
  auto health = c.get("/monitoring/health").json();
  auto& check = health.at("checks").at("auth");
  EXPECT_EQ(check.at("status").as_string(), "warning");
  EXPECT_NE(std::string(check.at("message").as_string()).find("AUTHENTICATION IS OFF"),
            std::string::npos);
  ASSERT_TRUE(health.as_object().contains("warnings"));
  EXPECT_EQ(health.at("warnings").at(0), check.at("message"));
  EXPECT_NE(service.logs().find("AUTHENTICATION IS OFF"), std::string::npos);
  // Without credentials a request acts as superadmin.
  EXPECT_EQ(c.post("/v1/products", R"({"name":"trial"})").status, 201u);
}

}  // namespace
}  // namespace duckmesh::testing
