#include "storage/object_store.hpp"

#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <chrono>
#include <string>

#include "common/error.hpp"
#include "common/hex.hpp"

namespace duckmesh::storage {
namespace {

// Longest key and longest segment accepted. Segments become file names in the
// local store (NAME_MAX is 255) and object names in S3 (1024 bytes a key).
constexpr std::size_t kMaxKeyBytes = 1024;
constexpr std::size_t kMaxSegmentBytes = 255;

[[noreturn]] void refuse(std::string_view key, std::string why) {
  boost::json::object details;
  details["key"] = key;
  throw Error(ErrorCode::invalid_input,
              "invalid object key '" + std::string(key) + "': " + std::move(why) +
                  "; a key is a relative '/'-separated path of non-empty segments without "
                  "'..', backslashes or control characters",
              std::move(details));
}

}  // namespace

void check_key(std::string_view key) {
  if (key.empty()) refuse(key, "empty");
  if (key.size() > kMaxKeyBytes) refuse(key, "longer than 1024 bytes");
  if (key.front() == '/') refuse(key, "absolute");
  if (key.back() == '/') refuse(key, "ends with '/'");
  // The contract refuses any '..', not just a '..' segment: no key may ever
  // be read as a step upwards by any backend or tool.
  if (key.find("..") != std::string_view::npos) refuse(key, "contains '..'");
  for (const char c : key) {
    if (c == '\\') refuse(key, "contains a backslash");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      refuse(key, "contains a control character");
    }
  }
  std::size_t start = 0;
  bool first = true;
  while (start <= key.size()) {
    const std::size_t slash = key.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? key.size() : slash;
    const std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) refuse(key, "empty segment ('//')");
    if (segment == ".") refuse(key, "'.' segment");
    if (segment.size() > kMaxSegmentBytes) refuse(key, "segment longer than 255 bytes");
    // The local store keeps its scratch area there; it is not an object.
    if (first && segment == ".tmp") refuse(key, "'.tmp' is reserved");
    first = false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
}

std::string key_segment(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out.empty() ? "%00" : out;
}

std::string unique_key(std::string_view prefix, std::string_view suffix) {
  std::array<unsigned char, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw Error(ErrorCode::internal, "RAND_bytes failed: no random source for object keys");
  }
  const std::string hex =
      to_hex(std::string_view(reinterpret_cast<const char*>(random.data()), random.size()));
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string key;
  if (!prefix.empty()) {
    key.append(prefix);
    if (key.back() != '/') key.push_back('/');
  }
  key.append(std::to_string(now_ms)).append("-").append(hex).append(suffix);
  check_key(key);
  return key;
}

}  // namespace duckmesh::storage
