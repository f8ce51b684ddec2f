#include "query/sandbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <thread>

#include "query/executor.hpp"
#include "query_test_support.hpp"

namespace duckmesh::query {
namespace {

using testing::expect_error;
using testing::ProductDirs;
namespace fs = std::filesystem;

// Every file under `dir`, relative to it.
std::set<std::string> files_under(const fs::path& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    out.insert(fs::relative(entry.path(), dir).string());
  }
  return out;
}

class SandboxTest : public ::testing::Test {
 protected:
  ProductDirs dirs;
  Sandbox sandbox{{dirs.p1()}, dirs.scratch()};

  std::string sql(const std::string& text) const {
    return testing::substitute(text, {{"p1", dirs.p1().string()},
                                      {"p2", dirs.p2().string()},
                                      {"root", dirs.root().string()},
                                      {"scratch", dirs.scratch().string()},
                                      {"private", sandbox.private_dir().string()}});
  }

  // The service's path: run_query (gate, then execution) as JSON.
  boost::json::value query(const std::string& text) {
    StringSink sink;
    run_query(sandbox, sql(text), QueryOptions{}, sink);
    return boost::json::parse(sink.data);
  }
};

TEST_F(SandboxTest, ReadsParquetInsideTheReadableDirectory) {
  auto result = query("SELECT count(*) AS n, sum(id) AS total FROM read_parquet('{p1}/*.parquet')");
  EXPECT_EQ(result.at("rows").at(0).at(0).as_int64(), 100);
  EXPECT_EQ(result.at("rows").at(0).at(1).as_int64(), 4950);
}

TEST_F(SandboxTest, PrivateDirectoryIsFreshAndRemoved) {
  fs::path dir = sandbox.private_dir();
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(dir.parent_path(), dirs.scratch());
  {
    Sandbox other({dirs.p1()}, dirs.scratch());
    EXPECT_NE(other.private_dir(), dir);
    EXPECT_TRUE(fs::is_directory(other.private_dir()));
    dir = other.private_dir();
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(SandboxTest, RejectsRelativePathsAndBadLimits) {
  EXPECT_EQ(expect_error([&] { Sandbox s({"relative/dir"}, dirs.scratch()); }).code(),
            ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([&] { Sandbox s({dirs.p1()}, "scratch"); }).code(),
            ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([&] { Sandbox s({dirs.p1()}, dirs.scratch(), {.threads = 0}); }).code(),
            ErrorCode::invalid_input);
}

// One row per way out of the sandbox: the SQL ({p1}: the readable product
// directory, {p2}: another product's, {private}: this sandbox's own
// directory) and the code the service's path must answer with. Adding an
// escape is adding a row.
struct Escape {
  std::string sql;
  ErrorCode code;
};

std::ostream& operator<<(std::ostream& out, const Escape& e) {
  return out << e.sql;
}

class SandboxEscape : public SandboxTest, public ::testing::WithParamInterface<Escape> {};

TEST_P(SandboxEscape, IsRefusedThroughTheServicePath) {
  const auto before_p1 = files_under(dirs.p1());
  const auto before_private = files_under(sandbox.private_dir());
  StringSink sink;
  Error e = expect_error([&] { run_query(sandbox, sql(GetParam().sql), QueryOptions{}, sink); });
  EXPECT_EQ(e.code(), GetParam().code) << e.what();
  EXPECT_TRUE(sink.data.empty());
  // Nothing was written anywhere the sandbox may write.
  EXPECT_EQ(files_under(dirs.p1()), before_p1);
  EXPECT_EQ(files_under(sandbox.private_dir()), before_private);
  EXPECT_FALSE(fs::exists("/tmp/duckmesh-escape.csv"));
  // And the sandbox still answers.
  EXPECT_EQ(query("SELECT 42 AS x").at("rows").at(0).at(0).as_int64(), 42);
}

constexpr auto kForbidden = ErrorCode::forbidden;

INSTANTIATE_TEST_SUITE_P(
    Escapes, SandboxEscape,
    ::testing::Values(
        // Files outside the readable directory.
        Escape{"SELECT * FROM read_csv('/etc/passwd')", kForbidden},
        Escape{"SELECT * FROM read_text('/etc/hosts')", kForbidden},
        Escape{"SELECT * FROM read_blob('/etc/hostname')", kForbidden},
        Escape{"SELECT * FROM sniff_csv('/etc/passwd')", kForbidden},
        Escape{"SELECT * FROM glob('/*')", kForbidden},
        Escape{"SELECT * FROM read_parquet('{p2}/b.parquet')", kForbidden},
        Escape{"SELECT * FROM read_parquet('{p1}/../p2/b.parquet')", kForbidden},
        Escape{"SELECT * FROM read_parquet('{root}/products/*/*.parquet')", kForbidden},
        Escape{"SELECT * FROM glob('{scratch}/*')", kForbidden},
        Escape{"SELECT * FROM read_parquet('{p1}2/x.parquet')", kForbidden},
        // Network.
        Escape{"SELECT * FROM read_parquet('http://127.0.0.1:1/x.parquet')", kForbidden},
        Escape{"SELECT * FROM read_csv('https://127.0.0.1:1/x.csv')", kForbidden},
        Escape{"SELECT * FROM read_parquet('s3://bucket/x.parquet')", kForbidden},
        // Other databases, extensions, settings.
        Escape{"ATTACH '{private}/other.db' AS other", kForbidden},
        Escape{"ATTACH ':memory:' AS other", kForbidden}, Escape{"DETACH memory", kForbidden},
        Escape{"INSTALL httpfs", kForbidden}, Escape{"LOAD httpfs", kForbidden},
        Escape{"LOAD parquet", kForbidden}, Escape{"SELECT * FROM duckdb_extensions()", kForbidden},
        Escape{"SET enable_external_access = true", kForbidden},
        Escape{"SET allowed_directories = ['/']", kForbidden},
        Escape{"SET lock_configuration = false", kForbidden}, Escape{"SET threads = 8", kForbidden},
        Escape{"RESET memory_limit", kForbidden}, Escape{"PRAGMA threads = 8", kForbidden},
        // Writes, which the directory allow-list would admit.
        Escape{"COPY (SELECT 1) TO '{private}/out.csv'", kForbidden},
        Escape{"COPY (SELECT 1) TO '{p1}/out.parquet' (FORMAT parquet)", kForbidden},
        Escape{"COPY (SELECT 1) TO '/tmp/duckmesh-escape.csv'", kForbidden},
        Escape{"EXPORT DATABASE '{private}/export'", kForbidden},
        Escape{"EXPLAIN ANALYZE COPY (SELECT 1) TO '{private}/out.csv'", kForbidden},
        Escape{"SELECT * FROM enable_logging(storage='file', storage_path='{p1}/logs')",
               kForbidden},
        Escape{"SELECT * FROM query('SELECT 1')", kForbidden},
        Escape{"SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
               kForbidden},
        Escape{"PRAGMA import_database('{p1}')", kForbidden},
        Escape{"SELECT * FROM enable_profiling()", kForbidden},
        Escape{"SELECT * FROM arrow_scan(0, 0, 0)", kForbidden}, Escape{"CHECKPOINT", kForbidden},
        Escape{"CALL enable_logging()", kForbidden},
        Escape{"CREATE TEMP TABLE x AS SELECT 1", kForbidden},
        Escape{"SELECT 1; COPY (SELECT 1) TO '{private}/out.csv'", kForbidden}));

// Defence in depth: without the gate, DuckDB's own settings still refuse
// these (COPY into an allowed directory, ATTACH of a new file there and
// the calls above are stopped by the gate alone).
class SandboxWithoutGate : public SandboxTest, public ::testing::WithParamInterface<Escape> {};

TEST_P(SandboxWithoutGate, DuckDBRefuses) {
  Error e = expect_error([&] { sandbox.connection().query(sql(GetParam().sql)); });
  EXPECT_EQ(e.code(), GetParam().code) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    Settings, SandboxWithoutGate,
    ::testing::Values(Escape{"SELECT * FROM read_csv('/etc/passwd')", kForbidden},
                      Escape{"SELECT * FROM glob('/*')", kForbidden},
                      Escape{"SELECT * FROM read_text('/etc/hosts')", kForbidden},
                      Escape{"SELECT * FROM read_parquet('{p2}/b.parquet')", kForbidden},
                      Escape{"SELECT * FROM read_parquet('http://127.0.0.1:1/x.parquet')",
                             kForbidden},
                      Escape{"COPY (SELECT 1) TO '/tmp/duckmesh-escape.csv'", kForbidden},
                      Escape{"INSTALL httpfs", kForbidden}, Escape{"LOAD httpfs", kForbidden},
                      // A locked configuration is an invalid_input from DuckDB.
                      Escape{"SET enable_external_access = true", ErrorCode::invalid_input},
                      Escape{"SET allowed_directories = ['/']", ErrorCode::invalid_input},
                      Escape{"SET threads = 8", ErrorCode::invalid_input}));

TEST_F(SandboxTest, ResetSessionDropsTemporaryViews) {
  sandbox.connection().execute("CREATE TEMP VIEW orders AS SELECT 1 AS id");
  EXPECT_EQ(query("SELECT count(*) FROM orders").at("rows").at(0).at(0).as_int64(), 1);
  sandbox.reset_session();
  StringSink sink;
  Error e = expect_error(
      [&] { run_query(sandbox, "SELECT count(*) FROM orders", QueryOptions{}, sink); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
  // The settings belong to the database and survive the new session.
  EXPECT_EQ(expect_error([&] {
              sandbox.connection().query("SELECT * FROM read_csv('/etc/passwd')");
            }).code(),
            ErrorCode::forbidden);
}

TEST_F(SandboxTest, SpillsIntoItsPrivateDirectory) {
  // A sort of ~200 MB with 32 MB of memory: DuckDB must spill, which the
  // sandbox allows in its private directory only.
  const std::string sort =
      "SELECT s FROM (SELECT md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS s "
      "FROM range(3000000)) ORDER BY s DESC";
  QueryOptions options;
  options.max_rows = 1;
  {
    // Proof that the sort needs the disk: with 1 MB of spill room it fails.
    Sandbox cramped({dirs.p1()}, dirs.scratch(),
                    {.memory_limit = "32MB", .threads = 1, .max_temp_directory_size = "1MB"});
    StringSink sink;
    Error e = expect_error([&] { run_query(cramped, sort, options, sink); });
    EXPECT_NE(std::string(e.what()).find("max_temp_directory_size"), std::string::npos) << e.what();
  }
  Sandbox small({dirs.p1()}, dirs.scratch(), {.memory_limit = "32MB", .threads = 1});
  StringSink sink;
  run_query(small, sort, options, sink);
  EXPECT_NE(sink.data.find("\"row_count\":1"), std::string::npos) << sink.data.substr(0, 200);
}

// ---- Pool ----

TEST(SandboxPool, ReusesSandboxesWithAFreshSession) {
  ProductDirs dirs;
  SandboxPool pool({dirs.p1()}, dirs.scratch(), {}, 2);
  fs::path first_dir;
  {
    auto lease = pool.acquire();
    first_dir = lease->private_dir();
    lease->connection().execute("CREATE TEMP VIEW orders AS SELECT 1 AS id");
  }
  EXPECT_EQ(pool.open_count(), 1u);
  EXPECT_EQ(pool.idle_count(), 1u);
  auto lease = pool.acquire();
  EXPECT_EQ(lease->private_dir(), first_dir);  // the same sandbox...
  EXPECT_EQ(expect_error([&] { lease->connection().query("SELECT * FROM orders"); }).code(),
            ErrorCode::invalid_input);  // ...without the previous user's view
}

TEST(SandboxPool, BoundsTheNumberOfSandboxes) {
  ProductDirs dirs;
  SandboxPool pool({dirs.p1()}, dirs.scratch(), {}, 2);
  auto a = pool.acquire();
  auto b = pool.acquire();
  EXPECT_EQ(pool.open_count(), 2u);
  Error e = expect_error([&] { pool.acquire(std::chrono::milliseconds(50)); });
  EXPECT_EQ(e.code(), ErrorCode::unavailable);

  // A waiter gets the sandbox released meanwhile.
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto c = pool.acquire(std::chrono::seconds(10));
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got.load());
  { auto released = std::move(a); }
  waiter.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pool.open_count(), 2u);
}

TEST(SandboxPool, DiscardedSandboxesAreClosedAndReplaced) {
  ProductDirs dirs;
  SandboxPool pool({dirs.p1()}, dirs.scratch(), {}, 1);
  fs::path dir;
  {
    auto lease = pool.acquire();
    dir = lease->private_dir();
    lease.discard();
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(pool.open_count(), 0u);
  auto lease = pool.acquire(std::chrono::milliseconds(50));
  EXPECT_NE(lease->private_dir(), dir);
}

TEST(SandboxPool, OneProductsSandboxCannotReadAnothers) {
  // Two pools sharing one scratch directory, as the service runs them.
  ProductDirs dirs;
  SandboxPool pool1({dirs.p1()}, dirs.scratch(), {}, 1);
  SandboxPool pool2({dirs.p2()}, dirs.scratch(), {}, 1);
  auto a = pool1.acquire();
  auto b = pool2.acquire();
  testing::run_plain("COPY (SELECT 1 AS x) TO '" + (b->private_dir() / "out.parquet").string() +
                     "' (FORMAT parquet)");
  StringSink sink;
  Error e = expect_error([&] {
    run_query(*a,
              "SELECT * FROM read_parquet('" + (b->private_dir() / "out.parquet").string() + "')",
              QueryOptions{}, sink);
  });
  EXPECT_EQ(e.code(), ErrorCode::forbidden) << e.what();
}

}  // namespace
}  // namespace duckmesh::query
