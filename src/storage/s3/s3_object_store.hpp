// S3ObjectStore: the ObjectStore on an S3-compatible server (scale-out).
//
// Objects live in one bucket, under an optional key prefix. Requests are
// signed with SigV4 and sent over libcurl; easy handles are pooled so
// connections are reused. Path-style ("http://host/bucket/key") or
// virtual-host style ("http://bucket.host/key") addressing.
//
// Failures: a connection error, a timeout, 429, or a 5xx answer is retried
// with exponential backoff and full jitter up to `max_attempts`; after that
// the call throws Error unavailable naming the request and the last cause.
// Other 4xx answers are not retried (403 -> internal with S3's message,
// 404 -> not_found where the contract says so).
//
// Immutability: put/put_file refuse an existing key with conflict (HEAD
// first, then a PUT, or the multipart completion, with "If-None-Match: *",
// which servers that support conditional writes enforce atomically).
//
// Large objects: above `multipart_threshold` bytes an object is uploaded in
// parts of `part_size` bytes (more when it would need over 10,000 parts),
// read from the file part by part, each part retried on its own. A failure
// aborts the upload, so no part is left behind and the key stays free; the
// finished object's size is checked with a HEAD before put returns.
//
// Checksums: every upload request (a whole object or a part) carries its
// SHA-256 in the signed x-amz-content-sha256 header and its MD5 in
// Content-MD5, so a server that checks them refuses bytes damaged on the
// way.
//
// Local cache: local_path() downloads the object once into `cache_dir` and
// keeps at most `cache_bytes` of such copies, evicting the least recently
// used. Objects are immutable, so a cached copy never goes stale; remove()
// drops it. put_file() keeps the uploaded file as the cached copy.
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/object_store.hpp"
#include "storage/s3/sigv4.hpp"

namespace duckmesh::storage {

struct S3Options {
  std::string endpoint;  // "http://127.0.0.1:9000" (scheme, host, optional port)
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;  // optional key prefix inside the bucket, without slashes at the ends
  s3::Credentials credentials;
  bool path_style = true;
  std::filesystem::path cache_dir;  // required: local copies and scratch files
  std::uint64_t cache_bytes = 4ull << 30;
  int max_attempts = 5;
  std::chrono::milliseconds base_backoff{100};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{60000};
  // Objects larger than this are uploaded in parts of part_size bytes
  // (S3's minimum part size, 5 MiB, is the least allowed).
  std::uint64_t multipart_threshold = 64ull << 20;
  std::uint64_t part_size = 16ull << 20;
};

// S3's bounds for one part of a multipart upload (all but the last part).
inline constexpr std::uint64_t kMinPartSize = 5ull << 20;
inline constexpr std::uint64_t kMaxPartSize = 5ull << 30;

class S3ObjectStore final : public ObjectStore {
 public:
  // Checks the options (invalid_input naming the setting); no request is sent.
  explicit S3ObjectStore(S3Options options);
  ~S3ObjectStore() override;

  void put_file(const std::string& key, const std::filesystem::path& source) override;
  void put(const std::string& key, std::string_view bytes) override;
  std::string get(const std::string& key) const override;
  std::filesystem::path local_path(const std::string& key) const override;
  std::filesystem::path local_directory(const std::string& prefix) const override;
  std::optional<ObjectInfo> stat(const std::string& key) const override;
  std::vector<ObjectInfo> list(const std::string& prefix) const override;
  void remove(const std::string& key) override;
  std::filesystem::path scratch_dir() const override;

  // Bytes currently held in the local cache.
  std::uint64_t cached_bytes() const;

  struct Response {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
  };

 private:
  struct HandlePool;

  // One signed request with retries. `query` decoded; `object` the full key
  // in the bucket ("" for the bucket itself).
  Response send(const std::string& method, const std::string& object,
                const std::map<std::string, std::string>& query, std::string_view body,
                const std::map<std::string, std::string>& extra_headers) const;
  std::string object_name(const std::string& key) const;
  void put_object(const std::string& key, std::string_view bytes);
  // Fills `into` with `length` bytes of the object from `offset`.
  using PartReader =
      std::function<void(std::uint64_t offset, std::size_t length, std::string& into)>;
  // Uploads a `size`-byte object in parts read by `read`; aborts the upload
  // on any failure. REQUIRES: the key was checked absent.
  void put_multipart(const std::string& key, std::uint64_t size, const PartReader& read);
  std::filesystem::path cache_path(const std::string& key) const;
  void remember_cached(const std::string& key, std::uint64_t size) const;
  void forget_cached(const std::string& key) const;

  S3Options options_;
  std::string scheme_;
  std::string host_;  // host[:port] of the endpoint
  std::unique_ptr<HandlePool> pool_;

  mutable std::mutex cache_mu_;
  mutable std::list<std::string> lru_;  // most recent first
  mutable std::map<std::string, std::pair<std::list<std::string>::iterator, std::uint64_t>> cached_;
  mutable std::uint64_t cached_total_ = 0;
};

}  // namespace duckmesh::storage
