#include "ingest/token.hpp"

#include <charconv>

#include "common/error.hpp"

namespace duckmesh::ingest {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(const std::string& in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

bool unbase64url(const std::string& in, std::string& out) {
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::char_traits<char>::find(kAlphabet, 64, c);
    if (!p) return false;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return true;
}

}  // namespace

std::string VisibilityToken::encode() const {
  return base64url("v1:" + product + ":" + std::to_string(position));
}

VisibilityToken VisibilityToken::decode(const std::string& text) {
  auto bad = [&] {
    std::string message = "'";
    message.append(text, 0, 80);
    message += "' is not a visibility token returned by ingest";
    return Error(ErrorCode::invalid_input, message, {{"field", "visibility_token"}});
  };
  std::string raw;
  if (text.empty() || text.size() > 400 || !unbase64url(text, raw)) throw bad();
  if (raw.rfind("v1:", 0) != 0) throw bad();
  auto colon = raw.rfind(':');
  if (colon <= 3) throw bad();
  VisibilityToken token;
  token.product = raw.substr(3, colon - 3);
  auto digits = raw.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), token.position);
  if (ec != std::errc() || end != digits.data() + digits.size() || token.product.empty())
    throw bad();
  return token;
}

}  // namespace duckmesh::ingest
