#include "storage/local/local_object_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/error.hpp"
#include "support/error_code.hpp"

namespace duckmesh::storage {
namespace {
namespace fs = std::filesystem;

// A fresh directory under `base`, removed with everything in it at the end.
class TempDir {
 public:
  explicit TempDir(const fs::path& base = fs::temp_directory_path()) {
    std::string pattern = (base / "dm-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good());
}

std::vector<std::string> scratch_entries(const LocalObjectStore& store) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(store.scratch_dir())) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

using duckmesh::testing::code_of;

TEST(LocalObjectStore, CreatesTheRootAndScratchArea) {
  TempDir dir;
  const fs::path root = dir.path() / "a" / "b" / "store";
  LocalObjectStore store(root);
  EXPECT_TRUE(fs::is_directory(root));
  EXPECT_EQ(store.scratch_dir(), fs::absolute(root) / ".tmp");
  EXPECT_TRUE(fs::is_directory(store.scratch_dir()));
}

TEST(LocalObjectStore, PutGetStatRoundTrip) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  const std::string bytes("binary\0bytes\xff", 13);
  store.put("prod/table/data/one.parquet", bytes);

  EXPECT_EQ(store.get("prod/table/data/one.parquet"), bytes);
  const auto info = store.stat("prod/table/data/one.parquet");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->key, "prod/table/data/one.parquet");
  EXPECT_EQ(info->size, bytes.size());
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_LE(std::abs(now_ms - info->modified_unix_ms), 60'000);
  EXPECT_EQ(store.local_path("prod/table/data/one.parquet"),
            dir.path() / "prod/table/data/one.parquet");
  EXPECT_EQ(
      store.get(
          store.local_path("prod/table/data/one.parquet").lexically_relative(dir.path()).string()),
      bytes);
  EXPECT_TRUE(scratch_entries(store).empty());
}

TEST(LocalObjectStore, EmptyObjectIsAnObject) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  store.put("empty", "");
  EXPECT_EQ(store.get("empty"), "");
  ASSERT_TRUE(store.stat("empty").has_value());
  EXPECT_EQ(store.stat("empty")->size, 0u);
}

TEST(LocalObjectStore, MissingObjects) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  EXPECT_EQ(code_of([&] { store.get("nope/x"); }), ErrorCode::not_found);
  EXPECT_FALSE(store.stat("nope/x").has_value());
  store.put("d/x", "1");
  // A directory is not an object.
  EXPECT_FALSE(store.stat("d").has_value());
  EXPECT_EQ(code_of([&] { store.get("d"); }), ErrorCode::not_found);
}

TEST(LocalObjectStore, ExistingKeyIsAConflictAndKeepsTheFirstObject) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  store.put("k/v", "first");
  EXPECT_EQ(code_of([&] { store.put("k/v", "second"); }), ErrorCode::conflict);

  const fs::path source = store.scratch_dir() / "incoming";
  write_file(source, "third");
  EXPECT_EQ(code_of([&] { store.put_file("k/v", source); }), ErrorCode::conflict);
  // A refused put_file leaves the caller's file alone.
  EXPECT_TRUE(fs::exists(source));
  EXPECT_EQ(store.get("k/v"), "first");
  fs::remove(source);
  EXPECT_TRUE(scratch_entries(store).empty());
}

TEST(LocalObjectStore, ConcurrentPutsOfOneKeyHaveExactlyOneWinner) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  constexpr int kThreads = 8;
  std::atomic<int> winners{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        store.put("race/key", "writer " + std::to_string(t));
        ++winners;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::conflict) ++conflicts;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  EXPECT_TRUE(store.get("race/key").starts_with("writer "));
  EXPECT_TRUE(scratch_entries(store).empty());
}

TEST(LocalObjectStore, PutFileConsumesTheSource) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  const fs::path source = store.scratch_dir() / "part.parquet";
  write_file(source, "parquet bytes");
  store.put_file("p/t/file.parquet", source);
  EXPECT_FALSE(fs::exists(source));
  EXPECT_EQ(store.get("p/t/file.parquet"), "parquet bytes");
  EXPECT_TRUE(scratch_entries(store).empty());
}

TEST(LocalObjectStore, PutFileFromAnotherDirectoryOnTheSameFilesystem) {
  TempDir dir;
  TempDir elsewhere;
  LocalObjectStore store(dir.path() / "store");
  const fs::path source = elsewhere.path() / "part.bin";
  write_file(source, "moved");
  store.put_file("x.bin", source);
  EXPECT_FALSE(fs::exists(source));
  EXPECT_EQ(store.get("x.bin"), "moved");
}

TEST(LocalObjectStore, PutFileAcrossFilesystemsCopies) {
  // /dev/shm is a tmpfs on Linux, so a rename from there into the store gives
  // EXDEV and exercises the copy path.
  if (!fs::is_directory("/dev/shm") || ::access("/dev/shm", W_OK) != 0) {
    GTEST_SKIP() << "no writable /dev/shm";
  }
  struct stat shm {
  }, tmp{};
  ASSERT_EQ(::stat("/dev/shm", &shm), 0);
  TempDir dir;
  ASSERT_EQ(::stat(dir.path().c_str(), &tmp), 0);
  if (shm.st_dev == tmp.st_dev) GTEST_SKIP() << "/dev/shm is on the same filesystem";

  TempDir other("/dev/shm");
  LocalObjectStore store(dir.path());
  const fs::path source = other.path() / "big.bin";
  std::string bytes(3 << 20, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + 7);
  write_file(source, bytes);
  store.put_file("cross/fs.bin", source);
  EXPECT_FALSE(fs::exists(source));
  EXPECT_EQ(store.get("cross/fs.bin"), bytes);
  EXPECT_TRUE(scratch_entries(store).empty());
}

TEST(LocalObjectStore, PutFileOfAMissingSourceIsNotFound) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  EXPECT_EQ(code_of([&] { store.put_file("k", dir.path() / "absent"); }), ErrorCode::not_found);
  EXPECT_FALSE(store.stat("k").has_value());
}

TEST(LocalObjectStore, FailedWriteLeavesNoObjectAndNoScratchFile) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  // RLIMIT_FSIZE makes writes past 4 KiB fail with EFBIG, as a full disk would.
  const sighandler_t old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit lower = old;
  lower.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lower), 0);
  const ErrorCode code = code_of([&] { store.put("big/object", std::string(64 * 1024, 'x')); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);

  EXPECT_EQ(code, ErrorCode::internal);
  EXPECT_FALSE(store.stat("big/object").has_value());
  EXPECT_TRUE(scratch_entries(store).empty());
  store.put("big/object", "fits now");
  EXPECT_EQ(store.get("big/object"), "fits now");
}

TEST(LocalObjectStore, ListIsSortedFilteredByPrefixAndSkipsScratch) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  for (const char* key : {"b/2", "a/1", "a/sub/3", "ab/4", "c", "a/10"}) store.put(key, key);
  write_file(store.scratch_dir() / "in-progress", "not an object");

  auto keys = [&](const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& info : store.list(prefix)) out.push_back(info.key);
    return out;
  };
  EXPECT_EQ(keys(""), (std::vector<std::string>{"a/1", "a/10", "a/sub/3", "ab/4", "b/2", "c"}));
  EXPECT_EQ(keys("a/"), (std::vector<std::string>{"a/1", "a/10", "a/sub/3"}));
  EXPECT_EQ(keys("a"), (std::vector<std::string>{"a/1", "a/10", "a/sub/3", "ab/4"}));
  EXPECT_EQ(keys("a/1"), (std::vector<std::string>{"a/1", "a/10"}));
  EXPECT_EQ(keys("a/sub/"), (std::vector<std::string>{"a/sub/3"}));
  EXPECT_TRUE(keys("zzz/").empty());
  EXPECT_TRUE(keys(".tmp/").empty());
  const auto all = store.list("");
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].size, 3u);  // "a/1"
  EXPECT_EQ(code_of([&] { store.list("../"); }), ErrorCode::invalid_input);
  EXPECT_EQ(code_of([&] { store.list("/etc"); }), ErrorCode::invalid_input);
}

TEST(LocalObjectStore, RemoveIsIdempotent) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  store.put("r/x", "bytes");
  store.remove("r/x");
  EXPECT_FALSE(store.stat("r/x").has_value());
  EXPECT_FALSE(fs::exists(dir.path() / "r/x"));
  store.remove("r/x");
  store.remove("never/existed");
  store.remove("r");  // a directory, not an object
  EXPECT_TRUE(store.list("").empty());
  // The key is free again.
  store.put("r/x", "again");
  EXPECT_EQ(store.get("r/x"), "again");
}

TEST(LocalObjectStore, ObjectInTheWayOfADirectoryIsAConflict) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  store.put("a", "file");
  EXPECT_EQ(code_of([&] { store.put("a/b", "x"); }), ErrorCode::conflict);
  EXPECT_TRUE(scratch_entries(store).empty());
}

TEST(LocalObjectStore, EveryMethodValidatesKeys) {
  TempDir dir;
  LocalObjectStore store(dir.path());
  const fs::path source = dir.path() / "src";
  write_file(source, "x");
  for (const std::string& bad :
       std::vector<std::string>{"", "/abs", "a/../b", "..", "a\\b", "a//b", "a/", ".tmp/x"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(code_of([&] { store.put(bad, "x"); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { store.put_file(bad, source); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { store.get(bad); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { store.stat(bad); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { store.remove(bad); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { store.local_path(bad); }), ErrorCode::invalid_input);
  }
  EXPECT_TRUE(fs::exists(source));
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "b"));
}

}  // namespace
}  // namespace duckmesh::storage
