#include "ontology/ontology_client.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "common/error.hpp"

namespace duckmesh::ontology {
namespace {

OntologySchema make_schema(const std::string& name, const std::string& version) {
  return OntologySchema::parse_text(R"({"name": ")" + name + R"(", "version": ")" + version +
                                    R"(", "columns": [{"name": "a", "type": "INTEGER"}]})");
}

// A source whose answers the test controls: up (serves `version`), failing
// (unavailable), counting calls.
class FakeSource : public SchemaSource {
 public:
  struct State {
    std::atomic<bool> failing{false};
    std::atomic<int> calls{0};
    std::string version = "1";
  };
  explicit FakeSource(std::shared_ptr<State> state, std::string label = "fake")
      : state_(std::move(state)), label_(std::move(label)) {}
  std::vector<std::string> list_schemas() override {
    hit();
    return {"t"};
  }
  OntologySchema fetch_schema(const std::string& id) override {
    hit();
    if (id != "t") throw Error(ErrorCode::not_found, "no " + id);
    return make_schema("t", state_->version);
  }
  std::string describe() const override { return label_; }

 private:
  void hit() {
    ++state_->calls;
    if (state_->failing) throw Error(ErrorCode::unavailable, "server down");
  }
  std::shared_ptr<State> state_;
  std::string label_;
};

struct Fixture {
  std::shared_ptr<FakeSource::State> server = std::make_shared<FakeSource::State>();
  std::shared_ptr<FakeSource::State> bundled = std::make_shared<FakeSource::State>();
  std::chrono::steady_clock::time_point now{};
  std::unique_ptr<OntologyClient> client;

  explicit Fixture(bool with_bundled = true) {
    bundled->version = "bundled";
    OntologyClientOptions options;
    options.cache_ttl = std::chrono::seconds(60);
    options.breaker = {.failure_threshold = 2, .cool_down = std::chrono::seconds(30)};
    client = std::make_unique<OntologyClient>(
        std::make_unique<FakeSource>(server, "server"),
        with_bundled ? std::make_unique<FakeSource>(bundled, "bundled") : nullptr, options,
        [this] { return now; });
  }
};

TEST(OntologyClient, CachesServerAnswersForTheTtl) {
  Fixture f;
  auto first = f.client->get("t");
  EXPECT_EQ(first.origin, Origin::server);
  EXPECT_EQ(f.server->calls, 1);
  f.now += std::chrono::seconds(59);
  auto second = f.client->get("t");
  EXPECT_EQ(second.origin, Origin::cache);
  EXPECT_EQ(f.server->calls, 1) << "a fresh entry needs no call";
  f.server->version = "2";
  f.now += std::chrono::seconds(1);
  auto third = f.client->get("t");
  EXPECT_EQ(third.origin, Origin::server);
  EXPECT_EQ(third.schema.version, "2");
  EXPECT_EQ(f.server->calls, 2);
}

TEST(OntologyClient, FallsBackToStaleCacheThenOpensTheBreaker) {
  Fixture f;
  f.client->get("t");
  f.server->failing = true;
  f.now += std::chrono::seconds(61);
  auto stale = f.client->get("t");
  EXPECT_EQ(stale.origin, Origin::stale_cache);
  EXPECT_EQ(stale.schema.version, "1");
  EXPECT_EQ(f.client->status().breaker, BreakerState::closed);
  f.client->get("t");
  EXPECT_EQ(f.client->status().breaker, BreakerState::open);
  EXPECT_EQ(f.client->status().reachable, false);
  int calls = f.server->calls;
  EXPECT_EQ(f.client->get("t").origin, Origin::stale_cache);
  EXPECT_EQ(f.server->calls, calls) << "an open breaker makes no call";
}

TEST(OntologyClient, BundledFallbackIsNeverCached) {
  Fixture f;
  f.server->failing = true;
  auto a = f.client->get("t");
  EXPECT_EQ(a.origin, Origin::bundled);
  EXPECT_EQ(a.schema.version, "bundled");
  EXPECT_EQ(f.client->status().cached, 0u);
  f.server->failing = false;
  // Still inside the breaker's closed state (one failure of two): the next
  // call asks the server again instead of serving the bundled copy as cache.
  auto b = f.client->get("t");
  EXPECT_EQ(b.origin, Origin::server);
  EXPECT_EQ(b.schema.version, "1");
}

TEST(OntologyClient, RecoversThroughHalfOpenProbe) {
  Fixture f;
  f.server->failing = true;
  f.client->get("t");
  f.client->get("t");
  ASSERT_EQ(f.client->status().breaker, BreakerState::open);
  f.server->failing = false;
  EXPECT_EQ(f.client->get("t").origin, Origin::bundled) << "still cooling down";
  f.now += std::chrono::seconds(30);
  auto probe = f.client->get("t");
  EXPECT_EQ(probe.origin, Origin::server);
  EXPECT_EQ(f.client->status().breaker, BreakerState::closed);
  EXPECT_EQ(f.client->status().reachable, true);
}

TEST(OntologyClient, RefreshRenewsCachedEntriesInTheBackground) {
  Fixture f;
  f.client->get("t");
  f.server->version = "2";
  f.now += std::chrono::seconds(30);
  f.client->refresh();
  f.now += std::chrono::seconds(45);  // 75 s after the first fetch, 45 after the refresh
  auto r = f.client->get("t");
  EXPECT_EQ(r.origin, Origin::cache);
  EXPECT_EQ(r.schema.version, "2");
}

TEST(OntologyClient, NotFoundFromTheServerIsAuthoritative) {
  Fixture f;
  EXPECT_THROW(
      {
        try {
          f.client->get("missing");
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::not_found);
          throw;
        }
      },
      Error);
  EXPECT_EQ(f.client->status().breaker, BreakerState::closed);
  EXPECT_EQ(f.client->status().consecutive_failures, 0);
}

TEST(OntologyClient, UnavailableWithoutServerCacheOrBundle) {
  Fixture f(false);
  f.server->failing = true;
  try {
    f.client->get("t");
    FAIL() << "expected unavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(std::string(e.what()).find("server down"), std::string::npos) << e.what();
  }
}

TEST(OntologyClient, ListFallsBackLikeSchemas) {
  Fixture f;
  EXPECT_EQ(f.client->list().origin, Origin::server);
  f.server->failing = true;
  EXPECT_EQ(f.client->list().origin, Origin::stale_cache);
}

TEST(OntologyClient, MockModeUsesOnlyBundled) {
  auto bundled = std::make_shared<FakeSource::State>();
  bundled->version = "bundled";
  OntologyClient client(nullptr, std::make_unique<FakeSource>(bundled), {});
  EXPECT_EQ(client.get("t").origin, Origin::bundled);
  EXPECT_EQ(client.get("t").origin, Origin::bundled);
  EXPECT_TRUE(client.status().mock);
  EXPECT_EQ(client.list().origin, Origin::bundled);
}

}  // namespace
}  // namespace duckmesh::ontology
