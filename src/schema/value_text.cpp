#include "schema/value_text.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/calendar.hpp"

namespace duckmesh::schema {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Exponents beyond this already put any non-zero number far outside every
// column type; clamping keeps the arithmetic from overflowing.
constexpr std::int64_t kExponentClamp = 1'000'000'000'000LL;

// Reads exactly `count` digits at s[pos] as a number; false if any is not
// a digit.
bool read_fixed(std::string_view s, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// Parses "YYYY-MM-DD" at the start of s (years 0001-9999, real dates).
bool parse_date_prefix(std::string_view s, int& y, int& m, int& d) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!read_fixed(s, 0, 4, y) || !read_fixed(s, 5, 2, m) || !read_fixed(s, 8, 2, d)) return false;
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 &&
         static_cast<unsigned>(d) <= calendar::days_in_month(y, static_cast<unsigned>(m));
}

// RFC 3339 text as whole seconds since the epoch in UTC plus microseconds;
// see append_utc_timestamp for the rules.
bool parse_utc_parts(std::string_view s, bool require_offset, std::int64_t& utc_seconds,
                     std::int64_t& fraction_micros, const char*& why) {
  int y, mo, d, h, mi, sec;
  why =
      "expected RFC 3339 text such as \"2026-11-25T10:00:00Z\" or \"2026-11-25 10:00:00.5+02:00\"";
  if (s.size() < 19) return false;
  if (!parse_date_prefix(s, y, mo, d)) {
    int yy, mm, dd;
    if (s[4] == '-' && s[7] == '-' && read_fixed(s, 0, 4, yy) && read_fixed(s, 5, 2, mm) &&
        read_fixed(s, 8, 2, dd)) {
      why = "the date part is not a calendar date in years 0001-9999";
    }
    return false;
  }
  char sep = s[10];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  if (s[13] != ':' || s[16] != ':' || !read_fixed(s, 11, 2, h) || !read_fixed(s, 14, 2, mi) ||
      !read_fixed(s, 17, 2, sec)) {
    return false;
  }
  if (h > 23 || mi > 59 || sec > 59) {
    why = sec == 60 ? "leap seconds (:60) cannot be stored; the time must be 00:00:00 to 23:59:59"
                    : "the time must be 00:00:00 to 23:59:59";
    return false;
  }
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    if (digits > 6) {
      why = "at most 6 fraction digits (microseconds) are allowed";
      return false;
    }
    for (std::size_t k = digits; k < 6; ++k) micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos == s.size()) {
    if (require_offset) {
      why = "the offset is required: end with \"Z\" or \"+HH:MM\"/\"-HH:MM\"";
      return false;
    }
  } else if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (s.size() - pos != 6 || s[pos + 3] != ':' || !read_fixed(s, pos + 1, 2, oh) ||
        !read_fixed(s, pos + 4, 2, om)) {
      why = "the offset must be \"Z\" or \"+HH:MM\"/\"-HH:MM\"";
      return false;
    }
    if (oh > 23 || om > 59) {
      why = "the offset must be at most 23:59";
      return false;
    }
    offset_seconds = (s[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    pos += 6;
  }
  if (pos != s.size()) return false;

  std::int64_t seconds =
      calendar::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
      h * 3600 + mi * 60 + sec - offset_seconds;
  // The first and last second of years 0001-9999 in UTC.
  static const std::int64_t first = calendar::days_from_civil(1, 1, 1) * 86400;
  static const std::int64_t last = calendar::days_from_civil(9999, 12, 31) * 86400 + 86399;
  if (seconds < first || seconds > last) {
    why = "the instant falls outside 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999 UTC";
    return false;
  }
  utc_seconds = seconds;
  fraction_micros = micros;
  return true;
}
// The value of each byte as a hex digit, -1 for the others.
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<std::int8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t['a' + c] = static_cast<std::int8_t>(10 + c);
    t['A' + c] = static_cast<std::int8_t>(10 + c);
  }
  return t;
}();

// Writes `v` (0 <= v < 10^width) as exactly `width` digits at `at`.
char* put_digits(char* at, std::int64_t v, int width) {
  for (int k = width - 1; k >= 0; --k) {
    at[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return at + width;
}

// Writes "YYYY-MM-DD" (10 bytes) at `at`. Years 0001-9999, what the parsers
// here accept: four digits always do.
char* put_date(char* at, const calendar::CivilDate& d) {
  at = put_digits(at, d.year, 4);
  *at++ = '-';
  at = put_digits(at, d.month, 2);
  *at++ = '-';
  return put_digits(at, d.day, 2);
}

}  // namespace

std::int64_t ExactNumber::integer_digits() const {
  if (digit_count == 0) return 0;
  std::int64_t n = static_cast<std::int64_t>(digit_count) + exponent;
  return n > 0 ? n : 0;
}

bool parse_exact_number(std::string_view text, ExactNumber& out) {
  out = ExactNumber{};
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') {
    out.negative = true;
    ++i;
  }
  if (i >= n || !is_digit(text[i])) return false;
  std::size_t significant = 0;     // digits from the first non-zero one
  std::size_t trailing_zeros = 0;  // zeros at the end of those
  std::int64_t fraction_length = 0;
  auto take = [&](char c) {
    if (significant == 0 && c == '0') return;
    if (significant < ExactNumber::kMaxDigits) out.digits[significant] = c;
    ++significant;
    trailing_zeros = c == '0' ? trailing_zeros + 1 : 0;
  };
  if (text[i] == '0') {
    ++i;
  } else {
    while (i < n && is_digit(text[i])) take(text[i++]);
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (i >= n || !is_digit(text[i])) return false;
    while (i < n && is_digit(text[i])) {
      take(text[i++]);
      ++fraction_length;
    }
  }
  std::int64_t exp = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (i >= n || !is_digit(text[i])) return false;
    while (i < n && is_digit(text[i])) {
      if (exp < kExponentClamp) exp = exp * 10 + (text[i] - '0');
      ++i;
    }
    if (exp_negative) exp = -exp;
  }
  if (i != n) return false;
  if (significant == 0) return true;  // zero, whatever its exponent
  out.digit_count = significant - trailing_zeros;
  out.exponent = exp - fraction_length + static_cast<std::int64_t>(trailing_zeros);
  return true;
}

bool exact_to_int64(const ExactNumber& n, std::int64_t min, std::int64_t max, std::int64_t& out,
                    bool& fractional) {
  fractional = false;
  if (n.is_zero()) {
    out = 0;
    return min <= 0 && 0 <= max;
  }
  if (n.exponent < 0) {
    fractional = true;
    return false;
  }
  if (n.integer_digits() > 19) return false;
  // At most 19 digits: below 10^19, which fits in 64 unsigned bits.
  std::uint64_t magnitude = 0;
  for (std::size_t i = 0; i < n.digit_count; ++i)
    magnitude = magnitude * 10 + static_cast<unsigned>(n.digits[i] - '0');
  for (std::int64_t i = 0; i < n.exponent; ++i) magnitude *= 10;
  if (n.negative) {
    std::uint64_t limit = min < 0 ? static_cast<std::uint64_t>(-(min + 1)) + 1 : 0;
    if (magnitude > limit) return false;
    out = magnitude == 0 ? 0 : -static_cast<std::int64_t>(magnitude - 1) - 1;
    return out >= min;
  }
  if (max < 0 || magnitude > static_cast<std::uint64_t>(max)) return false;
  out = static_cast<std::int64_t>(magnitude);
  return out >= min;
}

void append_decimal(const ExactNumber& n, int scale, std::string& out) {
  if (n.negative && !n.is_zero()) out += '-';
  // Position of the decimal point counted from the first significant digit.
  const std::int64_t point =
      n.is_zero() ? 0 : static_cast<std::int64_t>(n.digit_count) + n.exponent;
  auto digit_at = [&](std::int64_t p) {
    return p >= 0 && p < static_cast<std::int64_t>(n.digit_count) &&
                   p < static_cast<std::int64_t>(ExactNumber::kMaxDigits)
               ? n.digits[p]
               : '0';
  };
  if (point <= 0) {
    out += '0';
  } else {
    for (std::int64_t p = 0; p < point; ++p) out += digit_at(p);
  }
  if (scale > 0) {
    out += '.';
    for (int j = 0; j < scale; ++j) out += digit_at(point + j);
  }
}

bool parse_finite_double(std::string_view text, double& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc()) return std::isfinite(out);
  if (ec != std::errc::result_out_of_range) return false;
  // Out of range either way: too large is refused, too small rounds to zero.
  ExactNumber exact;
  if (!parse_exact_number(text, exact) || exact.integer_digits() > 0) return false;
  out = exact.negative ? -0.0 : 0.0;
  return true;
}

void append_double(double value, std::string& out) {
  if (value == 0 && std::signbit(value)) {
    out += "-0.0";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void append_utf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (end - p < static_cast<std::ptrdiff_t>(len)) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII runs are the common case: check 8 bytes at a time.
    if (end - p >= 8) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      if ((chunk & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const std::size_t len = utf8_sequence_length(p, end);
    if (len == 0) return false;
    p += len;
  }
  return true;
}

std::size_t count_code_points(std::string_view s) {
  // Every byte but a continuation byte (10xxxxxx) starts a code point:
  // eight bytes at a time, the continuation bytes counted by their top bits.
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::size_t continuation = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    continuation += static_cast<std::size_t>(std::popcount(v & ~(v << 1) & highs));
  }
  for (; i < s.size(); ++i) continuation += (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  return s.size() - continuation;
}

bool valid_date(std::string_view s) {
  int y, m, d;
  return s.size() == 10 && parse_date_prefix(s, y, m, d);
}

bool append_utc_timestamp(std::string_view s, bool require_offset, std::string& out,
                          const char*& why) {
  std::int64_t seconds, micros;
  if (!parse_utc_parts(s, require_offset, seconds, micros, why)) return false;
  append_utc_micros(seconds * 1'000'000 + micros, out);
  return true;
}

void append_utc_micros(std::int64_t micros, std::string& out) {
  std::int64_t seconds = micros >= 0 ? micros / 1'000'000 : (micros - 999'999) / 1'000'000;
  const std::int64_t fraction = micros - seconds * 1'000'000;
  std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  std::int64_t in_day = seconds - days * 86400;
  char buf[40];
  char* at = put_date(buf, calendar::civil_from_days(days));
  *at++ = ' ';
  at = put_digits(at, in_day / 3600, 2);
  *at++ = ':';
  at = put_digits(at, in_day / 60 % 60, 2);
  *at++ = ':';
  at = put_digits(at, in_day % 60, 2);
  if (fraction != 0) {
    *at++ = '.';
    at = put_digits(at, fraction, 6);
  }
  std::memcpy(at, "+00:00", 6);
  at += 6;
  out.append(buf, at);
}

void append_date_days(std::int32_t days, std::string& out) {
  char buf[10];
  out.append(buf, put_date(buf, calendar::civil_from_days(days)));
}

void append_uuid_bits(std::uint64_t high, std::uint64_t low, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[36];
  std::size_t at = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) buf[at++] = '-';
    const std::uint64_t word = nibble < 16 ? high : low;
    buf[at++] = kHex[(word >> (60 - 4 * (nibble % 16))) & 0xF];
  }
  out.append(buf, sizeof buf);
}

bool parse_utc_micros(std::string_view s, bool require_offset, std::int64_t& micros,
                      const char*& why) {
  std::int64_t seconds, fraction;
  if (!parse_utc_parts(s, require_offset, seconds, fraction, why)) return false;
  micros = seconds * 1'000'000 + fraction;
  return true;
}

bool parse_date_days(std::string_view s, std::int32_t& days) {
  int y, m, d;
  if (s.size() != 10 || !parse_date_prefix(s, y, m, d)) return false;
  days = static_cast<std::int32_t>(
      calendar::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
  return true;
}

bool parse_uuid(std::string_view s, std::uint64_t& high, std::uint64_t& low) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  // Where each of the 32 hex digits sits in the 8-4-4-4-12 text.
  static constexpr std::uint8_t kDigitAt[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11,
                                                12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25,
                                                26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
  std::uint64_t half[2] = {0, 0};
  int bad = 0;  // negative once any digit is not hex
  for (int n = 0; n < 32; ++n) {
    const int v = kHexValue[static_cast<unsigned char>(s[kDigitAt[n]])];
    bad |= v;
    half[n / 16] = (half[n / 16] << 4) | static_cast<std::uint64_t>(v & 0xF);
  }
  if (bad < 0) return false;
  high = half[0];
  low = half[1];
  return true;
}

bool exact_to_scaled(const ExactNumber& n, int precision, int scale, Int128& out) {
  if (n.fraction_digits() > scale || n.integer_digits() + scale > precision) return false;
  // digits * 10^(exponent + scale), exponent + scale >= 0 by the first check.
  Int128 v = 0;
  for (std::size_t i = 0; i < n.digit_count; ++i) v = v * 10 + (n.digits[i] - '0');
  for (std::int64_t k = 0; k < n.exponent + scale; ++k) v *= 10;
  out = n.negative ? -v : v;
  return true;
}

bool append_uuid(std::string_view s, std::string& out) {
  // The canonical text is the 8-4-4-4-12 input with its hex letters in lower
  // case (setting bit 0x20 lowers A-F and leaves digits as they are).
  if (s.size() != 36) return false;
  char buf[36];
  for (std::size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
      buf[i] = c;
      continue;
    }
    if (kHexValue[static_cast<unsigned char>(c)] < 0) return false;
    buf[i] = static_cast<char>(c | 0x20);
  }
  out.append(buf, sizeof buf);
  return true;
}

int hex_digit_value(char c) {
  return kHexValue[static_cast<unsigned char>(c)];
}

int json_escape_value(char e) {
  switch (e) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return -1;
  }
}

}  // namespace duckmesh::schema
