// Idempotency keys of ingest batches, so a re-run of the same command
// (after a crash, Ctrl-C or a lost answer) sends nothing twice.
//
// A batch's key is "<input id>:<first line of the batch>". For a file, the
// input id hashes its absolute path, size and modification time: the same
// unchanged file gets the same id on every run, and an edited file (new size
// or mtime) a new one, so its events count as new. For standard input, which
// has no such identity, the id hashes the batch's own content. The server
// keys each event of the batch as "<batch key>:<index>" and drops events
// whose key it has already taken. Re-runs must use the same batch limits
// (--batch-size) for the keys to line up.
//
// Hashes are 64-bit FNV-1a, written as 16 hex digits: stable across runs,
// builds and platforms, which std::hash does not promise.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace duckmesh::client {

std::uint64_t fnv1a64(std::string_view bytes);

// The id of a file from its identity; exposed for tests.
std::string file_input_id(std::string_view absolute_path, std::uintmax_t size,
                          std::int64_t mtime_ns);

// The id of the file at `path` (made absolute, symlinks resolved). Throws
// duckmesh::Error (invalid_input) when it cannot be examined.
std::string file_input_id(const std::filesystem::path& path);

// The id of a batch read from standard input: the hash of its content.
std::string content_input_id(std::string_view batch_body);

// "<input id>:<first line>".
std::string batch_key(std::string_view input_id, std::size_t first_line);

}  // namespace duckmesh::client
