// LocalObjectStore: the ObjectStore on a local directory (embedded default).
//
// Layout: an object with key "a/b/c.parquet" is the file <root>/a/b/c.parquet.
// <root>/.tmp/ is the scratch area (scratch_dir()) and holds writes in
// progress; it is never listed and no key may start with ".tmp".
//
// Publishing an object (put, put_file):
//   1. the bytes land in a fresh file in <root>/.tmp/ (same filesystem as the
//      destination), which is fsynced;
//   2. missing parent directories of the key are created, each one's parent
//      directory fsynced so the new entry survives a crash;
//   3. the file is renamed onto the key with RENAME_NOREPLACE (or link() +
//      unlink() where the filesystem lacks it), so an existing object is never
//      replaced: the second writer gets conflict;
//   4. the destination directory is fsynced.
// A crash before step 3 leaves at most an orphan in .tmp/ (no object); after
// step 4 the object is durable. Readers never see a partial object.
//
// Orphans in .tmp/ are not removed here: the scratch area is shared with
// callers that are still writing files there, so only the maintenance gc,
// which knows a grace period, may delete them.
//
// remove() leaves empty parent directories in place: deleting them would race
// with a concurrent put that has just created them.
//
// Thread safety: every method may be called concurrently, also from several
// processes sharing the root.
#pragma once

#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include "storage/object_store.hpp"

namespace duckmesh::storage {

class LocalObjectStore final : public ObjectStore {
 public:
  // Creates `root` and `root/.tmp` if missing. Throws on I/O failure.
  explicit LocalObjectStore(const std::filesystem::path& root);

  void put_file(const std::string& key, const std::filesystem::path& source) override;
  void put(const std::string& key, std::string_view bytes) override;
  std::string get(const std::string& key) const override;
  std::filesystem::path local_path(const std::string& key) const override;
  std::filesystem::path local_directory(const std::string& prefix) const override;
  std::optional<ObjectInfo> stat(const std::string& key) const override;
  std::vector<ObjectInfo> list(const std::string& prefix) const override;
  void remove(const std::string& key) override;
  std::filesystem::path scratch_dir() const override;

  const std::filesystem::path& root() const noexcept { return root_; }

 private:
  // A fresh, unused path in the scratch area.
  std::filesystem::path temp_path() const;
  // Creates the parent directories of `dest` below the root, durably.
  void ensure_parents(const std::filesystem::path& dest);
  // Steps 3 and 4 above: moves the fsynced `temp` onto `key`. On conflict the
  // temp file is left in place for the caller to dispose of.
  void publish(const std::filesystem::path& temp, const std::string& key);

  std::filesystem::path root_;
  std::filesystem::path tmp_;
  // Directories whose entry in their parent is known to be durable, so a put
  // into an existing directory does not fsync its parent again. Guarded by
  // durable_dirs_mu_.
  std::mutex durable_dirs_mu_;
  std::set<std::filesystem::path> durable_dirs_;
};

}  // namespace duckmesh::storage
