// ObjectStore: where data files live.
//
// Paths are keys relative to the store root, '/'-separated, never starting
// with '/' and never containing '..' (refused with invalid_input). Objects are
// immutable once put: callers make keys unique per write (see unique_key()),
// so a retried write never overwrites a published file.
//
// Thread safety: every method may be called concurrently from many threads.
// Errors: every failure throws duckmesh::Error (not_found for a missing key,
// unavailable for an I/O failure that may pass, internal otherwise).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duckmesh::storage {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::int64_t modified_unix_ms = 0;  // last modification, for orphan grace periods
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  ObjectStore() = default;
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // Moves the finished local file `source` into the store under `key`.
  // Durable on return: data fsynced, published atomically (a reader sees the
  // whole object or none), directory entry fsynced. `source` is consumed.
  // REQUIRES: key does not exist yet (conflict otherwise).
  virtual void put_file(const std::string& key, const std::filesystem::path& source) = 0;

  // Same contract as put_file, from bytes in memory.
  virtual void put(const std::string& key, std::string_view bytes) = 0;

  // Whole object as bytes. not_found if absent.
  virtual std::string get(const std::string& key) const = 0;

  // A local filesystem path from which the object can be read (for DuckDB's
  // read_parquet). For a local store this is the object itself; a remote store
  // returns a cached copy. The path stays valid until the object is deleted.
  virtual std::filesystem::path local_path(const std::string& key) const = 0;

  // The local directory below which local_path() puts the objects whose keys
  // start with `prefix` + "/" (what a query sandbox may read). Created if
  // missing.
  virtual std::filesystem::path local_directory(const std::string& prefix) const = 0;

  // Info for one object, or nullopt if absent.
  virtual std::optional<ObjectInfo> stat(const std::string& key) const = 0;

  // Every object whose key starts with `prefix`, sorted by key.
  virtual std::vector<ObjectInfo> list(const std::string& prefix) const = 0;

  // Deletes an object. Deleting an absent key is not an error (idempotent).
  virtual void remove(const std::string& key) = 0;

  // A directory on local disk for scratch files that will later be put_file'd
  // (same filesystem as the store when possible, so put_file is a rename).
  virtual std::filesystem::path scratch_dir() const = 0;
};

// A key unique per call: "<prefix>/<unix_ms>-<random 128-bit hex><suffix>".
std::string unique_key(std::string_view prefix, std::string_view suffix);

// Key-safe form of a value in one key segment (partition folders):
// [A-Za-z0-9._-] kept, every other byte %XX; "%00" for the empty string.
std::string key_segment(std::string_view value);

// Throws invalid_input unless `key` is a safe relative key (see above).
void check_key(std::string_view key);

}  // namespace duckmesh::storage
