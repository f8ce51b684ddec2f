// Helpers shared by the local log bus tests: a temporary directory and direct
// access to the log's files for damaging them on purpose.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bus/ingest_bus.hpp"
#include "bus/local/local_log_bus.hpp"

namespace duckmesh::bus::test_support {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "dm-bus-XXXXXX").string();
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

inline Record make_record(std::string payload, std::string table = "events", std::string key = "") {
  Record r;
  r.product = "sales";
  r.table = std::move(table);
  r.idempotency_key = std::move(key);
  r.payload = std::move(payload);
  return r;
}

inline std::vector<Record> one(std::string payload) {
  std::vector<Record> v;
  v.push_back(make_record(std::move(payload)));
  return v;
}

inline LocalLogBusOptions options_for(const fs::path& dir) {
  LocalLogBusOptions o;
  o.dir = dir;
  return o;
}

// Claims everything deliverable, lowest position first.
inline std::vector<Record> claim_all(IngestBus& bus, const std::string& consumer = "c",
                                     std::chrono::milliseconds lease = std::chrono::minutes(5)) {
  std::vector<Record> out;
  for (;;) {
    std::vector<Record> batch = bus.claim_batch(consumer, 1000, lease);
    if (batch.empty()) return out;
    std::move(batch.begin(), batch.end(), std::back_inserter(out));
  }
}

inline std::vector<Position> positions_of(const std::vector<Record>& records) {
  std::vector<Position> out;
  for (const Record& r : records) out.push_back(r.position);
  return out;
}

inline std::vector<fs::path> segment_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir / "segments")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out.good()) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace duckmesh::bus::test_support
