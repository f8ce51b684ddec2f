// The command-line clients (`duckmesh ingest`, `query`, `shell`) against a
// real server started by the test.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

// `text` with CRLF line ends as LF: CSV from the server may use either
// (RFC 4180 says CRLF), and these tests are about the rows.
std::string lf(std::string text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    start_service();
    HttpClient c("127.0.0.1", service_->port());
    ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})").status, 201u);
    auto events = c.post("/v1/products/shop/tables", R"J({"name":"events","columns":[
        {"name":"id","type":"bigint","nullable":false},{"name":"amount","type":"decimal(12,2)"},
        {"name":"note","type":"varchar"}]})J");
    ASSERT_EQ(events.status, 201u) << events.body;
    auto people = c.post("/v1/products/shop/tables", R"J({"name":"people","columns":[
        {"name":"id","type":"bigint","nullable":false},{"name":"name","type":"varchar"},
        {"name":"score","type":"double"},{"name":"balance","type":"decimal(10,2)"},
        {"name":"active","type":"boolean"},{"name":"born","type":"date"},
        {"name":"seen","type":"timestamptz"}]})J");
    ASSERT_EQ(people.status, 201u) << people.body;
  }

  void start_service() {
    service_.reset();
    service_ = std::make_unique<ServiceProcess>(dir_.path() / "data");
    server_ = "http://127.0.0.1:" + std::to_string(service_->port());
  }

  std::filesystem::path write_file(const std::string& name, const std::string& content) {
    auto path = dir_.path() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // `lines` NDJSON events with ids from `first_id`.
  std::filesystem::path events_file(const std::string& name, int lines, int first_id = 0) {
    std::string text;
    for (int i = first_id; i < first_id + lines; ++i) {
      text += R"({"id":)" + std::to_string(i) + R"(,"amount":")" + std::to_string(i % 1000) +
              R"(.25","note":"event )" + std::to_string(i) + "\"}\n";
    }
    return write_file(name, text);
  }

  RunResult cli(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--server", server_});
    return run_binary(args);
  }

  // Runs a shell command line (for standard input redirection and pipes).
  RunResult sh(const std::string& command) { return run_program("/bin/sh", {"-c", command}); }

  std::string count(const std::string& table) {
    auto r = cli(
        {"query", "--product", "shop", "--format", "csv", "SELECT count(*) AS n FROM " + table});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return lf(r.out);
  }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
  std::string server_;
};

TEST_F(CliTest, IngestsAnNdjsonFileAndARerunAddsNothing) {
  auto file = events_file("events.ndjson", 5000);
  auto first = cli({"ingest", "--product", "shop", "--table", "events", file.string()});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("accepted:   5000\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("duplicates: 0\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("rejected:   0\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("snapshot:   "), std::string::npos) << first.out;
  // stderr is not a terminal here: one final line instead of live progress.
  EXPECT_NE(first.err.find("5000 events sent in 5 batches"), std::string::npos) << first.err;
  EXPECT_EQ(first.err.find('\r'), std::string::npos);
  // Waiting for visibility means the rows are there at once.
  EXPECT_EQ(count("events"), "n\n5000\n");

  auto again = cli({"ingest", "--product", "shop", "--table", "events", file.string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("accepted:   0\n"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("duplicates: 5000\n"), std::string::npos) << again.out;
  EXPECT_EQ(count("events"), "n\n5000\n");

  auto sum = cli({"query", "--product", "shop", "--format", "csv",
                  "SELECT count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi FROM events"});
  EXPECT_EQ(lf(sum.out), "ids,lo,hi\n5000,0,4999\n");
}

TEST_F(CliTest, ARerunAfterAServerRestartStillFindsTheDuplicates) {
  auto file = events_file("events.ndjson", 3000);
  ASSERT_EQ(cli({"ingest", "--product", "shop", "--table", "events", file.string()}).exit_code, 0);
  // A new process has no memory of earlier answers; the per-event keys in
  // the catalog still recognise every event.
  service_->signal(SIGTERM);
  ASSERT_EQ(service_->wait(), 0);
  start_service();
  auto again = cli({"ingest", "--product", "shop", "--table", "events", file.string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("accepted:   0\n"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("duplicates: 3000\n"), std::string::npos) << again.out;
  EXPECT_EQ(count("events"), "n\n3000\n");
}

TEST_F(CliTest, StandardInputResumesWhereAnInterruptedRunStopped) {
  auto file = events_file("events.ndjson", 5000);
  const std::string ingest = std::string(DUCKMESH_BINARY) + " ingest --server " + server_ +
                             " --product shop --table events --gzip -";
  // The first run sees only the start of the input, as if cut off.
  auto partial = sh("head -n 2000 " + file.string() + " | " + ingest);
  ASSERT_EQ(partial.exit_code, 0) << partial.err;
  EXPECT_NE(partial.out.find("accepted:   2000\n"), std::string::npos) << partial.out;
  auto full = sh(ingest + " < " + file.string());
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.out.find("accepted:   3000\n"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("duplicates: 2000\n"), std::string::npos) << full.out;
  EXPECT_EQ(count("events"), "n\n5000\n");
}

TEST_F(CliTest, NoWaitPrintsTheVisibilityTokenInsteadOfTheSnapshot) {
  auto file = events_file("events.ndjson", 10);
  auto r = cli({"ingest", "--product", "shop", "--table", "events", "--no-wait", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("accepted:   10\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("snapshot:   not waited for\n"), std::string::npos) << r.out;
  auto at = r.out.find("token:      ");
  ASSERT_NE(at, std::string::npos) << r.out;
  std::string token = r.out.substr(at + 12);
  token = token.substr(0, token.find('\n'));
  // The token is the server's: it answers for it.
  HttpClient c("127.0.0.1", service_->port());
  EXPECT_EQ(c.get("/v1/products/shop/visibility/" + token).status, 200u);
}

TEST_F(CliTest, IngestsCsvTypedByTheTableSchema) {
  auto file = write_file("people.csv",
                         "id,name,score,balance,active,born,seen\r\n"
                         "1,\"Smith, Jane\",1.5,10.25,true,1990-05-01,2024-01-02T03:04:05Z\r\n"
                         "2,\"two\nlines \"\"quoted\"\"\",,-3,no,,\r\n"
                         "\r\n"
                         "3,plain, 2e2 ,0,1,2000-02-29,2024-06-30T23:59:59.5+02:00\r\n");
  auto r = cli({"ingest", "--product", "shop", "--table", "people", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("accepted:   3\n"), std::string::npos) << r.out;
  EXPECT_EQ(count("people"), "n\n3\n");
  auto rows =
      cli({"query", "--product", "shop", "--format", "csv", "SELECT * FROM people ORDER BY id"});
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  EXPECT_EQ(lf(rows.out),
            "id,name,score,balance,active,born,seen\n"
            "1,\"Smith, Jane\",1.5,10.25,true,1990-05-01,2024-01-02T03:04:05Z\n"
            "2,\"two\nlines \"\"quoted\"\"\",,-3.00,false,,\n"
            "3,plain,200,0.00,true,2000-02-29,2024-06-30T21:59:59.500000Z\n");
  // The same file again: all duplicates.
  auto again = cli({"ingest", "--product", "shop", "--table", "people", file.string()});
  EXPECT_NE(again.out.find("duplicates: 3\n"), std::string::npos) << again.out;
  EXPECT_EQ(count("people"), "n\n3\n");
}

TEST_F(CliTest, QueryPrintsAnAlignedTableByDefault) {
  auto file = events_file("events.ndjson", 3, 1);
  ASSERT_EQ(cli({"ingest", "--product", "shop", "--table", "events", file.string()}).exit_code, 0);
  // The server's address from the environment this time.
  auto r = run_binary(
      {"query", "--product", "shop",
       "SELECT id, amount, note, CAST(NULL AS VARCHAR) AS nothing FROM events ORDER BY id;"},
      {{"DUCKMESH_SERVER", server_}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find("(3 rows")),
            " id | amount |  note   | nothing\n"
            "----+--------+---------+---------\n"
            "  1 |   1.25 | event 1 | NULL\n"
            "  2 |   2.25 | event 2 | NULL\n"
            "  3 |   3.25 | event 3 | NULL\n");
  EXPECT_NE(r.out.find("(3 rows, snapshot "), std::string::npos) << r.out;

  auto truncated =
      cli({"query", "--product", "shop", "--max-rows", "2", "SELECT id FROM events ORDER BY id"});
  EXPECT_NE(truncated.out.find("(2 rows"), std::string::npos) << truncated.out;
  EXPECT_NE(truncated.out.find("truncated at 2 rows"), std::string::npos) << truncated.out;

  auto json = cli(
      {"query", "--product", "shop", "--format", "ndjson", "SELECT id FROM events ORDER BY id"});
  EXPECT_EQ(json.out, "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");

  auto pinned = cli({"query", "--product", "shop", "--snapshot", "1", "--format", "csv",
                     "SELECT count(*) AS n FROM events"});
  EXPECT_EQ(lf(pinned.out), "n\n0\n") << pinned.err;
}

TEST_F(CliTest, QueryErrorsAreShownWithANonZeroExit) {
  auto bad_sql = cli({"query", "--product", "shop", "SELEC 1"});
  EXPECT_EQ(bad_sql.exit_code, 1);
  EXPECT_NE(bad_sql.err.find("error: "), std::string::npos) << bad_sql.err;
  EXPECT_NE(bad_sql.err.find("HTTP 400 invalid_input"), std::string::npos) << bad_sql.err;
  EXPECT_NE(bad_sql.err.find("request id: "), std::string::npos) << bad_sql.err;

  auto no_product = cli({"query", "--product", "nope", "SELECT 1"});
  EXPECT_EQ(no_product.exit_code, 1);
  EXPECT_NE(no_product.err.find("not_found"), std::string::npos) << no_product.err;

  auto unreachable =
      run_binary({"query", "--server", "http://127.0.0.1:1", "--product", "shop", "SELECT 1"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("cannot connect to http://127.0.0.1:1"), std::string::npos)
      << unreachable.err;
}

TEST_F(CliTest, AnInvalidEventStopsTheIngestNamingItsLineAndField) {
  auto file = write_file("bad.ndjson",
                         "{\"id\":1,\"note\":\"fine\"}\n"
                         "\n"
                         "{\"id\":2,\"amount\":\"not a number\"}\n"
                         "{\"id\":3}\n");
  auto r = cli({"ingest", "--product", "shop", "--table", "events", file.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("HTTP 422 unprocessable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3, field 'amount'"), std::string::npos) << r.err;
  EXPECT_EQ(count("events"), "n\n0\n");

  // With --skip-invalid the valid events go in and the exit code says some did not.
  auto skip =
      cli({"ingest", "--product", "shop", "--table", "events", "--skip-invalid", file.string()});
  EXPECT_EQ(skip.exit_code, 3) << skip.err;
  EXPECT_NE(skip.err.find("line 3, field 'amount'"), std::string::npos) << skip.err;
  EXPECT_NE(skip.out.find("accepted:   2\n"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("rejected:   1\n"), std::string::npos) << skip.out;
  EXPECT_EQ(count("events"), "n\n2\n");
}

TEST_F(CliTest, AReRunWithSkipInvalidTakesTheRestOfTheFile) {
  auto file = write_file("half.ndjson",
                         "{\"id\":1}\n"
                         "{\"id\":2}\n"
                         "{\"id\":3,\"amount\":\"not a number\"}\n"
                         "{\"id\":4}\n");
  // The first batch goes in, the second is refused whole.
  auto r =
      cli({"ingest", "--product", "shop", "--table", "events", "--batch-size", "2", file.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // It stopped without waiting for the first batch to become visible.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count("events") != "n\n2\n" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(count("events"), "n\n2\n");
  // Run again taking the valid events: the first batch, sent again under its
  // key (now with atomic=false), is answered as before and adds nothing.
  auto again = cli({"ingest", "--product", "shop", "--table", "events", "--batch-size", "2",
                    "--skip-invalid", file.string()});
  EXPECT_EQ(again.exit_code, 3) << again.err;
  EXPECT_NE(again.err.find("line 3, field 'amount'"), std::string::npos) << again.err;
  EXPECT_EQ(count("events"), "n\n3\n");
}

TEST_F(CliTest, IngestRefusesAMissingTableAndUnreadableCsv) {
  auto file = events_file("events.ndjson", 10);
  auto missing = cli({"ingest", "--product", "shop", "--table", "nope", file.string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;

  auto ragged = write_file("ragged.csv", "id,name\n1,a\n2,b,extra\n");
  auto r = cli({"ingest", "--product", "shop", "--table", "people", ragged.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;

  auto absent = cli({"ingest", "--product", "shop", "--table", "events",
                     (dir_.path() / "absent.ndjson").string()});
  EXPECT_EQ(absent.exit_code, 2) << absent.err;
}

TEST_F(CliTest, ShellRunsAPipedScript) {
  auto file = events_file("events.ndjson", 3, 1);
  ASSERT_EQ(cli({"ingest", "--product", "shop", "--table", "events", file.string()}).exit_code, 0);
  auto script = write_file("script.sql",
                           "\\tables\n"
                           "SELECT id, note -- a comment; not the end\n"
                           "FROM events\n"
                           "WHERE id < 3 ORDER BY id;\n"
                           "\\format csv\n"
                           "SELECT 'a;b' AS s; SELECT count(*) AS n FROM events;\n"
                           "\\snapshot 1\n"
                           "SELECT count(*) AS n FROM events;\n"
                           "\\snapshot latest\n"
                           "\\format table\n"
                           "SELECT max(id) AS top FROM events;\n"
                           "\\q\n"
                           "SELECT 'after quit' AS never;\n");
  auto r = sh(std::string(DUCKMESH_BINARY) + " shell --server " + server_ + " --product shop < " +
              script.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r.out = lf(r.out);
  EXPECT_EQ(r.err, "");
  // No prompt or banner with piped input.
  EXPECT_EQ(r.out.find("shop=>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" events | append | id bigint, amount decimal(12,2), note varchar "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(2 tables)\n"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find(" id |  note\n----+---------\n  1 | event 1\n  2 | event 2\n(2 rows, snapshot "),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("format: csv\ns\na;b\nn\n3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("snapshot: 1 (committed "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(")\nn\n0\nsnapshot: latest\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" top\n-----\n   3\n(1 row, snapshot "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("after quit"), std::string::npos) << r.out;
}

TEST_F(CliTest, ShellReportsFailuresAndExitsNonZeroForScripts) {
  auto script = write_file("script.sql",
                           "SELEC 1;\n"
                           "\\snapshot 999\n"
                           "\\nonsense\n"
                           "SELECT 42 AS answer;\n"
                           "SELECT 'unfinished'\n");
  auto r = sh(std::string(DUCKMESH_BINARY) + " shell --server " + server_ + " --product shop < " +
              script.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("HTTP 400 invalid_input"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("snapshot 999 does not exist"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown command \\nonsense"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the input ended inside a statement"), std::string::npos) << r.err;
  // The statements after a failure still run.
  EXPECT_NE(r.out.find(" answer\n--------\n     42\n"), std::string::npos) << r.out;

  auto wrong_product = sh(std::string(DUCKMESH_BINARY) + " shell --server " + server_ +
                          " --product nope < /dev/null");
  EXPECT_EQ(wrong_product.exit_code, 1);
  EXPECT_NE(wrong_product.err.find("not_found"), std::string::npos) << wrong_product.err;
}

}  // namespace
}  // namespace duckmesh::testing
