#include "duck/row_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::DuckTest;
using ::testing::HasSubstr;

using RowSourceTest = DuckTest;

TEST_F(RowSourceTest, RowsOfEveryTypeReadBackAsWritten) {
  RowSource source(conn, "rows");
  std::vector<SourceColumn> columns = {{"b", SourceType::boolean},
                                       {"i", SourceType::integer},
                                       {"l", SourceType::bigint},
                                       {"u", SourceType::ubigint},
                                       {"d", SourceType::double_},
                                       {"small", SourceType::decimal, 4, 2},
                                       {"mid", SourceType::decimal, 9, 3},
                                       {"big", SourceType::decimal, 18, 4},
                                       {"huge", SourceType::decimal, 38, 10},
                                       {"s", SourceType::varchar},
                                       {"dt", SourceType::date},
                                       {"ts", SourceType::timestamp},
                                       {"tz", SourceType::timestamptz},
                                       {"id", SourceType::uuid}};
  // 5000 rows: three chunks. Odd rows are all NULL.
  const idx_t total = 5000;
  idx_t next = 0;
  RowSource::Producer produce = [&](ChunkWriter& out, std::size_t) {
    idx_t n = 0;
    for (; n < out.capacity() && next < total; ++n, ++next) {
      if (next % 2 == 1) {
        for (idx_t c = 0; c < columns.size(); ++c) out.set_null(c, n);
        continue;
      }
      auto v = static_cast<std::int64_t>(next);
      out.set_bool(0, n, next % 4 == 0);
      out.set_int32(1, n, static_cast<std::int32_t>(-v));
      out.set_int64(2, n, v * 1'000'000'000LL);
      out.set_uint64(3, n, std::uint64_t{1} << 63 | static_cast<std::uint64_t>(v));
      out.set_double(4, n, static_cast<double>(v) / 4);
      out.set_decimal(5, n, -v % 9999);
      out.set_decimal(6, n, v * 1000 + 1);
      out.set_decimal(7, n, v * 100'000'000'000LL + 5);
      out.set_decimal(
          8, n, static_cast<Int128>(v) * static_cast<Int128>(1'000'000'000'000'000'000LL) * 1000);
      out.set_string(9, n, "row " + std::to_string(next) + std::string(next % 30, 'x'));
      out.set_date(10, n, static_cast<std::int32_t>(v));
      out.set_timestamp(11, n, v * 1'000'001);
      out.set_timestamp(12, n, -v * 1'000'001);
      out.set_uuid(13, n, 0x0123456789abcdefULL + static_cast<std::uint64_t>(v),
                   0xfedcba9876543210ULL);
    }
    return n;
  };
  conn.execute("SET TimeZone = 'UTC'");
  source.query("CREATE TABLE t AS SELECT * FROM rows()", columns, produce);

  EXPECT_EQ(duck::to_int64(one("SELECT count(*) FROM t")), 5000);
  EXPECT_EQ(
      duck::to_int64(one("SELECT count(*) FROM t WHERE b IS NULL AND i IS NULL AND id IS NULL "
                         "AND s IS NULL AND huge IS NULL")),
      2500);
  // Row 4098 (in the third chunk), checked against DuckDB's own literals.
  EXPECT_EQ(duck::to_int64(one(
                "SELECT count(*) FROM t WHERE NOT b AND i = -4098 AND l = 4098000000000 AND "
                "u = 9223372036854779906 AND d = 1024.5 AND small = -40.98 AND mid = 4098.001 AND "
                "big = 40980000000.0005 AND huge = 409800000000000.0000000000 AND "
                "s = 'row 4098' || repeat('x', 18) AND dt = DATE '1981-03-22' AND "
                "ts = TIMESTAMP '1970-01-01 01:08:18.004098' AND "
                "tz = TIMESTAMPTZ '1969-12-31 22:51:41.995902+00' AND "
                "id = '01234567-89ab-ddf1-fedc-ba9876543210'::UUID")),
            1);
  // UUIDs keep their order (DuckDB flips the top bit inside).
  EXPECT_EQ(duck::to_int64(one("SELECT count(*) FROM (SELECT id, lag(id) OVER (ORDER BY i DESC) "
                               "AS before FROM t WHERE id IS NOT NULL) WHERE before >= id")),
            0);
}

// set_string_ref lends the producer's bytes to the statement: what DuckDB
// keeps (a table, a Parquet file) holds its own copy, equal to the text
// lent, and later changes to the lent bytes do not reach it.
TEST_F(RowSourceTest, StringsLentToTheStatementAreCopiedIntoWhatItKeeps) {
  RowSource source(conn, "lent");
  std::vector<SourceColumn> columns = {{"n", SourceType::bigint}, {"s", SourceType::varchar}};
  const idx_t total = 5000;
  std::vector<std::string> texts;
  for (idx_t i = 0; i < total; ++i) {
    // Short ones (inlined in the vector) and long ones (referred to).
    texts.push_back("text " + std::to_string(i) + std::string(i % 40, 'y') + "\u00e9");
  }
  idx_t next = 0;
  RowSource::Producer produce = [&](ChunkWriter& out, std::size_t) {
    idx_t n = 0;
    for (; n < out.capacity() && next < total; ++n, ++next) {
      out.set_int64(0, n, static_cast<std::int64_t>(next));
      out.set_string_ref(1, n, texts[next]);
    }
    return n;
  };
  testing::ScratchDir dir;
  auto file = (dir.path() / "lent.parquet").string();
  source.query("COPY (SELECT * FROM lent()) TO '" + file + "' (FORMAT parquet)", columns, produce);
  next = 0;
  // The filter compares the lent strings inside the statement.
  source.query("CREATE TABLE lent_copy AS SELECT * FROM lent() WHERE s > 'text '", columns,
               produce);
  for (auto& t : texts) std::fill(t.begin(), t.end(), 'z');

  for (const std::string& from : {"read_parquet('" + file + "')", std::string("lent_copy")}) {
    EXPECT_EQ(duck::to_int64(one("SELECT count(*) FROM " + from)), 5000) << from;
    EXPECT_EQ(duck::to_int64(one("SELECT count(*) FROM " + from +
                                 " WHERE s = 'text ' || n || repeat('y', (n % 40)::INTEGER) || "
                                 "'\u00e9'")),
              5000)
        << from;
  }
}

TEST_F(RowSourceTest, WhatTheProducerThrowsComesBackAsItself) {
  RowSource source(conn, "failing");
  std::vector<SourceColumn> columns = {{"x", SourceType::bigint}};
  int calls = 0;
  RowSource::Producer produce = [&](ChunkWriter& out, std::size_t) -> idx_t {
    if (++calls == 2) throw std::range_error("record 7 is bad");
    for (idx_t n = 0; n < out.capacity(); ++n) out.set_int64(0, n, 1);
    return out.capacity();
  };
  EXPECT_THROW(
      {
        try {
          source.query("SELECT sum(x) FROM failing()", columns, produce);
        } catch (const std::range_error& e) {
          EXPECT_STREQ(e.what(), "record 7 is bad");
          throw;
        }
      },
      std::range_error);
  // The connection and the source stay usable.
  calls = 10;
  idx_t left = 3;
  RowSource::Producer three = [&](ChunkWriter& out, std::size_t) -> idx_t {
    if (left == 0) return 0;
    out.set_int64(0, 0, 5);
    --left;
    return 1;
  };
  EXPECT_EQ(duck::to_int64(
                *source.query("SELECT sum(x)::BIGINT FROM failing()", columns, three).scalar()),
            15);
}

TEST_F(RowSourceTest, OutsideItsQueryTheFunctionRefusesCleanly) {
  auto source = std::make_unique<RowSource>(conn, "idle");
  auto error = testing::expect_error([&] { conn.query("SELECT * FROM idle()"); });
  EXPECT_THAT(error.what(), HasSubstr("no rows to give"));
  source.reset();  // gone: the registered function must not touch it
  error = testing::expect_error([&] { conn.query("SELECT * FROM idle()"); });
  EXPECT_THAT(error.what(), HasSubstr("no rows to give"));
}

// The calling thread of a query waits for DuckDB's worker without burning
// a core: here the worker holds the only busy task for half a second while
// the caller has nothing left to run.
TEST_F(RowSourceTest, WhileDuckDBsThreadsWorkTheCallerSleepsInsteadOfSpinning) {
  DatabaseOptions options;
  options.threads = 2;
  Database two_threads("", options);
  Connection c(two_threads);
  RowSource source(c, "slow");
  std::vector<SourceColumn> columns = {{"x", SourceType::bigint}};
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> worker_started{false};
  std::atomic<bool> worker_done{false};
  RowSource::Producer produce = [&](ChunkWriter&, std::size_t) -> idx_t {
    if (std::this_thread::get_id() == caller) {
      // Leave the work to the worker: wait until it holds its task.
      for (int i = 0; i < 2000 && !worker_started.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return 0;
    }
    if (!worker_started.exchange(true)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      worker_done = true;
    }
    return 0;
  };
  auto cpu_now = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
  };
  const auto cpu_before = cpu_now();
  source.query("SELECT count(*) FROM slow()", columns, produce, 2);
  const auto cpu_used = cpu_now() - cpu_before;
  ASSERT_TRUE(worker_started.load()) << "DuckDB's worker thread never ran a task";
  EXPECT_TRUE(worker_done.load());
  // Spinning would cost the caller about the worker's 500 ms.
  EXPECT_LT(cpu_used, std::chrono::milliseconds(150))
      << std::chrono::duration_cast<std::chrono::milliseconds>(cpu_used).count() << " ms";
}

}  // namespace
}  // namespace duckmesh::duck
