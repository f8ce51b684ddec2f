// Parquet is how data products are stored; these tests pin that the
// pinned DuckDB writes and reads it, and that values survive the trip.
#include <gtest/gtest.h>

#include <filesystem>

#include "duck/connection.hpp"
#include "duck/temporal.hpp"
#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::DuckTest;
using testing::ScratchDir;

using ParquetTest = DuckTest;

TEST_F(ParquetTest, CopyToParquetAndReadBack) {
  ScratchDir scratch;
  const std::string file = (scratch.path() / "events.parquet").string();
  Result copied = conn.query(
      "COPY (SELECT i AS id, 'event ' || i AS name, "
      "       (i / 100)::DECIMAL(20,2) AS amount, "
      "       TIMESTAMPTZ '2024-05-01 00:00:00+00' + i * INTERVAL 1 SECOND AS at, "
      "       [i, i + 1] AS pair, "
      "       CASE WHEN i % 10 = 0 THEN NULL ELSE i END AS maybe "
      "      FROM range(20000) t(i)) "
      "TO '" +
      file + "' (FORMAT parquet, COMPRESSION zstd)");
  EXPECT_EQ(copied.rows_changed(), 20000u);
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_GT(std::filesystem::file_size(file), 0u);

  Result r = conn.query_streaming("SELECT * FROM read_parquet('" + file + "') ORDER BY id");
  EXPECT_EQ(r.column_type_names(),
            (std::vector<std::string>{"BIGINT", "VARCHAR", "DECIMAL(20,2)",
                                      "TIMESTAMP WITH TIME ZONE", "BIGINT[]", "BIGINT"}));
  const std::int64_t base = make_timestamp(2024, 5, 1, 0, 0, 0).micros;
  std::int64_t expected = 0;
  while (auto chunk = r.next_chunk()) {
    for (idx_t row = 0; row < chunk->size(); ++row, ++expected) {
      ASSERT_EQ(chunk->get_int64(0, row), expected);
      ASSERT_EQ(chunk->get_string(1, row), "event " + std::to_string(expected));
      // i / 100 as DECIMAL(20,2) is i hundredths.
      ASSERT_EQ(chunk->get_decimal(2, row), (Decimal{static_cast<Int128>(expected), 20, 2}));
      ASSERT_EQ(chunk->get_timestamp(3, row).micros, base + expected * kMicrosPerSecond);
      ASSERT_EQ(chunk->get_value(4, row),
                (Value{List{{std::int64_t{expected}, std::int64_t{expected + 1}}}}));
      ASSERT_EQ(chunk->is_null(5, row), expected % 10 == 0);
    }
  }
  EXPECT_EQ(expected, 20000);
}

TEST_F(ParquetTest, ParquetMetadataIsReadable) {
  ScratchDir scratch;
  const std::string file = (scratch.path() / "small.parquet").string();
  conn.execute("COPY (SELECT 1 AS a, 'x' AS b) TO '" + file + "' (FORMAT parquet)");
  EXPECT_EQ(one("SELECT count(*) FROM parquet_schema('" + file + "') WHERE name IN ('a', 'b')"),
            Value{std::int64_t{2}});
  EXPECT_EQ(one("SELECT num_rows FROM parquet_file_metadata('" + file + "')"),
            Value{std::int64_t{1}});
}

}  // namespace
}  // namespace duckmesh::duck
