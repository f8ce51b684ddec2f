// The dead-letter area over HTTP against the real binary: events whose table
// was dropped after they were accepted land there with the reason; once the
// table exists again, replay commits each of them exactly once.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

using boost::beast::http::verb;
using namespace std::chrono_literals;

const char* kOrders = R"J({
  "name": "orders",
  "kind": "append",
  "columns": [
    {"name": "id", "type": "varchar", "nullable": false},
    {"name": "amount", "type": "decimal(12,2)"}
  ]
})J";

class DeadLetterApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Events wait up to 3 s for their commit: time enough to drop their
    // table under them.
    start();
    auto c = client();
    ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})").status, 201u);
    ASSERT_EQ(c.post("/v1/products", R"({"name":"stock"})").status, 201u);
    ASSERT_EQ(c.post("/v1/products/shop/tables", kOrders).status, 201u);
    ASSERT_EQ(c.post("/v1/products/stock/tables", kOrders).status, 201u);
  }
  void start() {
    service_ = std::make_unique<ServiceProcess>(
        dir_.path() / "data", std::vector<std::string>{"--commit-max-batch-age-ms", "3000"});
  }
  // Stops the service with `sig` (SIGTERM: shutdown; SIGKILL: a crash) and
  // starts it again on the same data.
  void restart(int sig) {
    service_->signal(sig);
    service_->wait();
    start();
  }
  HttpClient client() { return HttpClient("127.0.0.1", service_->port()); }

  // Accepts three events into shop.orders and drops the table before the
  // coordinator commits them; returns once all three are dead letters.
  boost::json::array strand_three_events() {
    auto c = client();
    auto accepted = c.post("/v1/products/shop/tables/orders/events",
                           R"([{"id":"a","amount":1.5,"_idempotency_key":"k-a"},
                               {"id":"b","amount":2},
                               {"id":"c","amount":"3.25","_idempotency_key":"k-c"}])");
    EXPECT_EQ(accepted.status, 202u) << accepted.body;
    auto dropped = c.request(verb::delete_, "/v1/products/shop/tables/orders");
    EXPECT_EQ(dropped.status, 200u) << dropped.body;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto listed = c.get("/v1/products/shop/dead-letters");
      EXPECT_EQ(listed.status, 200u) << listed.body;
      if (listed.json().at("count").as_int64() == 3) {
        return listed.json().at("dead_letters").as_array();
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "the three events never reached the dead-letter area";
    return {};
  }

  // Waits until the write behind `token` is visible in shop.
  void wait_visible(const std::string& token) {
    auto c = client();
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!c.get("/v1/products/shop/visibility/" + token).json().at("visible").as_bool()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "the replayed events never committed";
      std::this_thread::sleep_for(50ms);
    }
  }

  std::vector<std::string> ids_in_orders() {
    auto r =
        client().post("/v1/products/shop/query", R"({"sql":"SELECT id FROM orders ORDER BY id"})");
    EXPECT_EQ(r.status, 200u) << r.body;
    std::vector<std::string> ids;
    const auto body = r.json();
    for (const auto& row : body.at("rows").as_array()) {
      ids.emplace_back(row.at(0).as_string());
    }
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
};

TEST_F(DeadLetterApiTest, EventsOfADroppedTableAreListedWithTheirReason) {
  auto dead = strand_three_events();
  ASSERT_EQ(dead.size(), 3u);
  const std::regex instant(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  std::set<std::string> ids;
  for (const auto& d : dead) {
    EXPECT_EQ(d.at("table").as_string(), "orders");
    EXPECT_NE(std::string(d.at("reason").as_string()).find("does not exist"), std::string::npos)
        << d;
    EXPECT_TRUE(std::regex_match(std::string(d.at("dead_at").as_string()), instant)) << d;
    EXPECT_TRUE(std::regex_match(std::string(d.at("ingested_at").as_string()), instant)) << d;
    EXPECT_GT(d.at("position").as_int64(), 0);
    ids.emplace(d.at("event").at("id").as_string());
    if (d.at("event").at("id").as_string() == "a") {
      EXPECT_EQ(d.at("idempotency_key").as_string(), "k-a");
      EXPECT_EQ(d.at("event").at("amount").as_string(), "1.50");  // as validated
    }
    if (d.at("event").at("id").as_string() == "b") {
      EXPECT_TRUE(d.at("idempotency_key").is_null());
    }
  }
  EXPECT_EQ(ids, (std::set<std::string>{"a", "b", "c"}));

  auto c = client();
  // Per product: the other product's area is its own.
  EXPECT_EQ(c.get("/v1/products/stock/dead-letters").json().at("count").as_int64(), 0);
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters?limit=2").json().at("count").as_int64(), 2);
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters?table=orders").json().at("count").as_int64(), 3);
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters?table=other").json().at("count").as_int64(), 0);
  auto bad_limit = c.get("/v1/products/shop/dead-letters?limit=0");
  EXPECT_EQ(bad_limit.status, 400u);
  EXPECT_EQ(bad_limit.json().at("error").at("details").at("field").as_string(), "limit");
  EXPECT_EQ(c.get("/v1/products/nope/dead-letters").status, 404u);
}

TEST_F(DeadLetterApiTest, ReplayCommitsEachEventOnceAfterTheTableIsBack) {
  auto dead = strand_three_events();
  ASSERT_EQ(dead.size(), 3u);
  auto c = client();

  // While the table is missing, replaying would only fail again: refused,
  // and nothing leaves the area.
  auto early = c.post("/v1/products/shop/dead-letters/replay", R"({"table":"orders"})");
  EXPECT_EQ(early.status, 409u) << early.body;
  EXPECT_EQ(early.json().at("error").at("details").at("table").as_string(), "orders");
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters").json().at("count").as_int64(), 3);

  ASSERT_EQ(c.post("/v1/products/shop/tables", kOrders).status, 201u);

  // Bad requests name the field and change nothing.
  auto field_of = [&](const std::string& body) {
    auto r = c.post("/v1/products/shop/dead-letters/replay", body);
    EXPECT_EQ(r.status / 100, 4u) << body << " -> " << r.body;
    return std::make_pair(
        r.status,
        std::string(r.json().at("error").at("details").as_object().at("field").as_string()));
  };
  EXPECT_EQ(field_of("{}"), std::make_pair(400u, std::string("positions")));
  EXPECT_EQ(field_of(R"({"positions":"all"})"), std::make_pair(400u, std::string("positions")));
  EXPECT_EQ(field_of(R"({"positions":[0]})"), std::make_pair(400u, std::string("positions")));
  EXPECT_EQ(field_of(R"({"positions":[1],"table":"orders"})"),
            std::make_pair(400u, std::string("table")));
  EXPECT_EQ(field_of(R"({"table":"orders","force":true})"),
            std::make_pair(400u, std::string("force")));
  // A position that is no dead letter of this product: 404 naming it, and
  // the valid position beside it is not replayed either.
  const auto first = dead.at(0).at("position").as_int64();
  auto unknown = c.post("/v1/products/shop/dead-letters/replay",
                        R"({"positions":[)" + std::to_string(first) + R"(,999999]})");
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
  EXPECT_EQ(unknown.json().at("error").at("details").at("position").as_int64(), 999999);
  EXPECT_EQ(c.post("/v1/products/stock/dead-letters/replay",
                   R"({"positions":[)" + std::to_string(first) + "]}")
                .status,
            404u);
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters").json().at("count").as_int64(), 3);

  // One by position, then the rest of the table.
  auto one = c.post("/v1/products/shop/dead-letters/replay",
                    R"({"positions":[)" + std::to_string(first) + "]}");
  ASSERT_EQ(one.status, 200u) << one.body;
  ASSERT_EQ(one.json().at("replayed").as_array().size(), 1u);
  EXPECT_EQ(one.json().at("replayed").at(0).at("position").as_int64(), first);
  EXPECT_GT(one.json().at("replayed").at(0).at("replayed_as").as_int64(), first);
  auto rest = c.post("/v1/products/shop/dead-letters/replay", R"({"table":"orders"})");
  ASSERT_EQ(rest.status, 200u) << rest.body;
  EXPECT_EQ(rest.json().at("replayed").as_array().size(), 2u);
  EXPECT_EQ(rest.json().at("remaining").as_int64(), 0);
  const std::string token(rest.json().at("visibility_token").as_string());

  // Visible once, in the table as it is now.
  wait_visible(token);
  EXPECT_EQ(ids_in_orders(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters").json().at("count").as_int64(), 0);

  // Replaying again finds nothing; retrying the keyed events' ingest is a
  // duplicate of what replay committed.
  auto again = c.post("/v1/products/shop/dead-letters/replay",
                      R"({"positions":[)" + std::to_string(first) + "]}");
  EXPECT_EQ(again.status, 404u);
  auto retry = c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true",
                      R"([{"id":"a","amount":1.5,"_idempotency_key":"k-a"}])");
  ASSERT_EQ(retry.status / 100, 2u) << retry.body;
  EXPECT_EQ(retry.json().at("duplicates").as_int64(), 1);
  EXPECT_EQ(ids_in_orders(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(DeadLetterApiTest, AKeyedEventSentAgainAfterItsDeadLetterIsStoredOnceWithTheReplay) {
  auto dead = strand_three_events();
  ASSERT_EQ(dead.size(), 3u);
  auto c = client();
  ASSERT_EQ(c.post("/v1/products/shop/tables", kOrders).status, 201u);

  // The client sends k-a again. Its first copy never reached the table, so
  // this one is stored: the node that accepted the first copy answers as
  // any other node (or itself after a restart) would, not "duplicate".
  auto again =
      c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true&timeout_ms=20000",
             R"([{"id":"a","amount":1.5,"_idempotency_key":"k-a"}])");
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.json().at("accepted").as_int64(), 1) << again.body;
  EXPECT_EQ(again.json().at("duplicates").as_int64(), 0) << again.body;
  EXPECT_EQ(ids_in_orders(), (std::vector<std::string>{"a"}));

  // Replaying the dead letters adds b and c; a's replay is a duplicate of
  // the copy just stored and adds nothing.
  auto replayed = c.post("/v1/products/shop/dead-letters/replay", R"({"table":"orders"})");
  ASSERT_EQ(replayed.status, 200u) << replayed.body;
  EXPECT_EQ(replayed.json().at("replayed").as_array().size(), 3u);
  wait_visible(std::string(replayed.json().at("visibility_token").as_string()));
  EXPECT_EQ(ids_in_orders(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters").json().at("count").as_int64(), 0);

  // From now on the key is taken.
  auto retry = c.post("/v1/products/shop/tables/orders/events",
                      R"([{"id":"a","amount":1.5,"_idempotency_key":"k-a"}])");
  ASSERT_EQ(retry.status / 100, 2u) << retry.body;
  EXPECT_EQ(retry.json().at("duplicates").as_int64(), 1) << retry.body;
  EXPECT_EQ(retry.json().at("accepted").as_int64(), 0) << retry.body;
}

TEST_F(DeadLetterApiTest, ReplayedEventsSurviveARestart) {
  auto dead = strand_three_events();
  ASSERT_EQ(dead.size(), 3u);
  ASSERT_EQ(client().post("/v1/products/shop/tables", kOrders).status, 201u);
  // The list survives a restart of the service.
  restart(SIGTERM);
  ASSERT_EQ(client().get("/v1/products/shop/dead-letters").json().at("count").as_int64(), 3);
  auto replayed = client().post("/v1/products/shop/dead-letters/replay", R"({"table":"orders"})");
  ASSERT_EQ(replayed.status, 200u) << replayed.body;
  // Acknowledged by the replay, then the process is killed: still committed once.
  restart(SIGKILL);
  auto c = client();
  const std::string token(replayed.json().at("visibility_token").as_string());
  wait_visible(token);
  EXPECT_EQ(ids_in_orders(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.get("/v1/products/shop/dead-letters").json().at("count").as_int64(), 0);
}

TEST_F(DeadLetterApiTest, TheCommandLineListsAndReplaysThem) {
  auto dead = strand_three_events();
  ASSERT_EQ(dead.size(), 3u);
  const std::string server = "http://127.0.0.1:" + std::to_string(service_->port());
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, {"--server", server, "--product", "shop"});
    return run_binary(args);
  };

  auto listed = cli({"dead-letters", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("does not exist"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(R"({"id":"a","amount":"1.50"})"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("(3 dead letters)"), std::string::npos) << listed.out;
  auto one = cli({"dead-letters", "list", "--limit", "1", "--format", "json"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(boost::json::parse(one.out).at("count").as_int64(), 1);

  // Neither a table nor positions: refused before anything is sent.
  auto neither = cli({"dead-letters", "replay"});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("--table"), std::string::npos) << neither.err;
  // The table is still missing: the server's 409 is shown, exit 1.
  auto early = cli({"dead-letters", "replay", "--table", "orders"});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.err.find("create it again"), std::string::npos) << early.err;

  ASSERT_EQ(client().post("/v1/products/shop/tables", kOrders).status, 201u);
  const std::string first = std::to_string(dead.at(0).at("position").as_int64());
  auto by_position = cli({"dead-letters", "replay", "--position", first});
  ASSERT_EQ(by_position.exit_code, 0) << by_position.err;
  EXPECT_NE(by_position.out.find("replayed 1 dead letter\n  " + first + " -> "), std::string::npos)
      << by_position.out;
  auto rest = cli({"dead-letters", "replay", "--table", "orders"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_NE(rest.out.find("replayed 2 dead letters"), std::string::npos) << rest.out;
  const auto at = rest.out.find("visibility token: ");
  ASSERT_NE(at, std::string::npos) << rest.out;
  std::string token = rest.out.substr(at + 18);
  token = token.substr(0, token.find('\n'));
  wait_visible(token);
  EXPECT_EQ(ids_in_orders(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_NE(cli({"dead-letters", "list"}).out.find("(0 dead letters)"), std::string::npos);
}

}  // namespace
}  // namespace duckmesh::testing
