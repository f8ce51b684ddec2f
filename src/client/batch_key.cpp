#include "client/batch_key.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace duckmesh::client {
namespace {

std::string hex16(std::uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string file_input_id(std::string_view absolute_path, std::uintmax_t size,
                          std::int64_t mtime_ns) {
  // NUL cannot occur in a path, so the fields cannot run into each other.
  std::string identity(absolute_path);
  identity += '\0';
  identity += std::to_string(size);
  identity += '\0';
  identity += std::to_string(mtime_ns);
  return hex16(fnv1a64(identity));
}

std::string file_input_id(const std::filesystem::path& path) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(path, ec);
  if (!ec) absolute = std::filesystem::weakly_canonical(absolute, ec);
  if (ec) {
    throw Error(ErrorCode::invalid_input,
                "cannot resolve the path of '" + path.string() + "': " + ec.message(),
                {{"path", path.string()}});
  }
  struct stat st {};
  if (::stat(absolute.c_str(), &st) != 0) {
    throw Error(ErrorCode::invalid_input,
                "cannot examine '" + path.string() + "': " + std::strerror(errno),
                {{"path", path.string()}});
  }
  const std::int64_t mtime_ns =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
  return file_input_id(absolute.string(), static_cast<std::uintmax_t>(st.st_size), mtime_ns);
}

std::string content_input_id(std::string_view batch_body) {
  return hex16(fnv1a64(batch_body));
}

std::string batch_key(std::string_view input_id, std::size_t first_line) {
  return std::string(input_id) + ":" + std::to_string(first_line);
}

}  // namespace duckmesh::client
