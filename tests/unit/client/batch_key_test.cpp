// Idempotency keys of ingest batches: stable for an unchanged input, new for
// a changed one.
#include "client/batch_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/error.hpp"

namespace duckmesh::client {
namespace {

TEST(BatchKey, Fnv1aMatchesTheReferenceValues) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(BatchKey, FileIdDependsOnPathSizeAndMtime) {
  const std::string id = file_input_id("/data/events.ndjson", 1000, 1'700'000'000'000'000'000);
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(id, file_input_id("/data/events.ndjson", 1000, 1'700'000'000'000'000'000));
  EXPECT_NE(id, file_input_id("/data/other.ndjson", 1000, 1'700'000'000'000'000'000));
  EXPECT_NE(id, file_input_id("/data/events.ndjson", 1001, 1'700'000'000'000'000'000));
  EXPECT_NE(id, file_input_id("/data/events.ndjson", 1000, 1'700'000'000'000'000'001));
  // Fields are separated, so moving digits between them changes the id.
  EXPECT_NE(file_input_id("/a1", 0, 5), file_input_id("/a", 10, 5));
}

TEST(BatchKey, BatchKeyIsIdColonFirstLine) {
  EXPECT_EQ(batch_key("0123456789abcdef", 1001), "0123456789abcdef:1001");
}

TEST(BatchKey, ContentIdFollowsTheContent) {
  EXPECT_EQ(content_input_id("{\"a\":1}\n"), content_input_id("{\"a\":1}\n"));
  EXPECT_NE(content_input_id("{\"a\":1}\n"), content_input_id("{\"a\":2}\n"));
}

class FileIdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/duckmesh-batch-key-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FileIdTest, SameUnchangedFileSameIdWhicheverWayItIsNamed) {
  auto path = dir_ / "events.ndjson";
  std::ofstream(path) << "{\"a\":1}\n";
  const std::string id = file_input_id(path);
  EXPECT_EQ(id, file_input_id(path));
  // A relative name of the same file resolves to the same absolute path.
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  EXPECT_EQ(id, file_input_id(std::filesystem::path("events.ndjson")));
  EXPECT_EQ(id, file_input_id(std::filesystem::path("./events.ndjson")));
  std::filesystem::current_path(cwd);
}

TEST_F(FileIdTest, EditedFileGetsANewId) {
  auto path = dir_ / "events.ndjson";
  std::ofstream(path) << "{\"a\":1}\n";
  const std::string id = file_input_id(path);
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) + std::chrono::seconds(5));
  EXPECT_NE(id, file_input_id(path));
}

TEST_F(FileIdTest, MissingFileIsInvalidInput) {
  try {
    file_input_id(dir_ / "missing.ndjson");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  }
}

}  // namespace
}  // namespace duckmesh::client
