#include "duck/temporal.hpp"

#include "common/error.hpp"

namespace duckmesh::duck {
namespace {

constexpr std::int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr std::int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr std::int64_t kNanosPerDay = kMicrosPerDay * 1000;

// Floor division and its non-negative remainder: timestamps before 1970 are
// negative, and their time of day must still come out in [0, one day).
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

void append_padded(std::string& out, std::uint64_t value, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
}

// ".5" for 500000 of 6 digits: the fraction without trailing zeros, as
// DuckDB prints it; nothing when the fraction is zero.
void append_trimmed_fraction(std::string& out, std::uint64_t fraction, int digits) {
  if (fraction == 0) return;
  std::string text;
  append_padded(text, fraction, digits);
  while (!text.empty() && text.back() == '0') text.pop_back();
  out.push_back('.');
  out += text;
}

// DuckDB's date text: four-digit year at least, years <= 0 shown as BC.
void append_duckdb_date(std::string& out, std::int64_t days) {
  CivilDate c = civil_from_days(days);
  bool bc = c.year <= 0;
  std::uint64_t shown_year =
      bc ? static_cast<std::uint64_t>(1 - c.year) : static_cast<std::uint64_t>(c.year);
  append_padded(out, shown_year, 4);
  out.push_back('-');
  append_padded(out, c.month, 2);
  out.push_back('-');
  append_padded(out, c.day, 2);
  if (bc) out += " (BC)";
}

void append_hms(std::string& out, std::uint64_t hours, std::uint64_t minutes,
                std::uint64_t seconds) {
  append_padded(out, hours, 2);
  out.push_back(':');
  append_padded(out, minutes, 2);
  out.push_back(':');
  append_padded(out, seconds, 2);
}

void append_iso_date(std::string& out, std::int64_t days) {
  CivilDate c = civil_from_days(days);
  if (c.year < 0) {
    out.push_back('-');
    append_padded(out, static_cast<std::uint64_t>(-c.year), 4);
  } else if (c.year > 9999) {
    out.push_back('+');
    append_padded(out, static_cast<std::uint64_t>(c.year), 4);
  } else {
    append_padded(out, static_cast<std::uint64_t>(c.year), 4);
  }
  out.push_back('-');
  append_padded(out, c.month, 2);
  out.push_back('-');
  append_padded(out, c.day, 2);
}

void append_interval_part(std::string& out, std::int64_t amount, const char* unit) {
  if (!out.empty()) out.push_back(' ');
  if (amount < 0) out.push_back('-');
  append_padded(out, static_cast<std::uint64_t>(amount < 0 ? -amount : amount), 1);
  out.push_back(' ');
  out += unit;
  if (amount != 1 && amount != -1) out.push_back('s');
}

}  // namespace

Date make_date(std::int64_t year, unsigned month, unsigned day) {
  // Bound the year first so the day arithmetic below cannot overflow.
  if (year < -6'000'000 || year > 6'000'000 || month < 1 || month > 12 || day < 1 ||
      day > calendar::days_in_month(year, month)) {
    throw Error(ErrorCode::invalid_input, "not a valid calendar date",
                {{"year", year}, {"month", month}, {"day", day}});
  }
  std::int64_t days = days_from_civil(year, month, day);
  if (days <= Date::kNegativeInfinity || days >= Date::kInfinity) {
    throw Error(ErrorCode::invalid_input, "date is outside DuckDB's DATE range",
                {{"year", year}, {"month", month}, {"day", day}});
  }
  return Date{static_cast<std::int32_t>(days)};
}

Timestamp make_timestamp(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                         unsigned minute, unsigned second, unsigned micros) {
  if (hour > 23 || minute > 59 || second > 59 || micros > 999'999) {
    throw Error(ErrorCode::invalid_input, "not a valid time of day",
                {{"hour", hour}, {"minute", minute}, {"second", second}, {"micros", micros}});
  }
  Date date = make_date(year, month, day);
  std::int64_t of_day =
      hour * kMicrosPerHour + minute * kMicrosPerMinute + second * kMicrosPerSecond + micros;
  std::int64_t total = 0;
  if (__builtin_mul_overflow(static_cast<std::int64_t>(date.days), kMicrosPerDay, &total) ||
      __builtin_add_overflow(total, of_day, &total) || total == Timestamp::kInfinity ||
      total <= Timestamp::kNegativeInfinity) {
    throw Error(ErrorCode::invalid_input, "timestamp is outside DuckDB's TIMESTAMP range",
                {{"year", year}, {"month", month}, {"day", day}});
  }
  return Timestamp{total};
}

std::string format_date(Date date) {
  if (date.days == Date::kInfinity) return "infinity";
  if (date.days == Date::kNegativeInfinity) return "-infinity";
  std::string out;
  append_duckdb_date(out, date.days);
  return out;
}

std::string format_time(std::int64_t micros_of_day) {
  // TIME allows 24:00:00 and nothing negative; clamp a corrupt negative
  // value to magnitude rather than print garbage digits.
  auto m = static_cast<std::uint64_t>(micros_of_day < 0 ? -micros_of_day : micros_of_day);
  std::string out;
  append_hms(out, m / kMicrosPerHour, m / kMicrosPerMinute % 60, m / kMicrosPerSecond % 60);
  append_trimmed_fraction(out, m % kMicrosPerSecond, 6);
  return out;
}

std::string format_timestamp(Timestamp ts) {
  if (ts.micros == Timestamp::kInfinity) return "infinity";
  if (ts.micros == Timestamp::kNegativeInfinity) return "-infinity";
  std::int64_t days = floor_div(ts.micros, kMicrosPerDay);
  std::string out;
  append_duckdb_date(out, days);
  out.push_back(' ');
  out += format_time(ts.micros - days * kMicrosPerDay);
  return out;
}

std::string format_timestamp(TimestampTz ts) {
  if (!ts.is_finite()) return format_timestamp(Timestamp{ts.micros});
  return format_timestamp(Timestamp{ts.micros}) + "+00";
}

std::string format_timestamp_ns(std::int64_t nanos) {
  if (nanos == Timestamp::kInfinity) return "infinity";
  if (nanos == Timestamp::kNegativeInfinity) return "-infinity";
  std::int64_t days = floor_div(nanos, kNanosPerDay);
  auto of_day = static_cast<std::uint64_t>(nanos - days * kNanosPerDay);
  constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;
  std::string out;
  append_duckdb_date(out, days);
  out.push_back(' ');
  append_hms(out, of_day / (3600 * kNanosPerSecond), of_day / (60 * kNanosPerSecond) % 60,
             of_day / kNanosPerSecond % 60);
  append_trimmed_fraction(out, of_day % kNanosPerSecond, 9);
  return out;
}

std::string format_interval(std::int32_t months, std::int32_t days, std::int64_t micros) {
  std::string out;
  const std::int64_t years = months / 12;
  const std::int64_t rest_months = months - years * 12;
  if (years != 0) append_interval_part(out, years, "year");
  if (rest_months != 0) append_interval_part(out, rest_months, "month");
  if (days != 0) append_interval_part(out, days, "day");
  if (micros != 0) {
    if (!out.empty()) out.push_back(' ');
    std::uint64_t m =
        micros < 0 ? 0 - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
    if (micros < 0) out.push_back('-');
    append_hms(out, m / kMicrosPerHour, m / kMicrosPerMinute % 60, m / kMicrosPerSecond % 60);
    append_trimmed_fraction(out, m % kMicrosPerSecond, 6);
  }
  if (out.empty()) out = "00:00:00";
  return out;
}

std::string to_iso8601(Date date) {
  std::string out;
  append_iso8601(out, date);
  return out;
}

std::string to_rfc3339(Timestamp ts) {
  std::string out;
  append_rfc3339(out, ts);
  return out;
}
std::string to_rfc3339(TimestampTz ts) {
  return to_rfc3339(Timestamp{ts.micros});
}

void append_iso8601(std::string& out, Date date) {
  if (date.days == Date::kInfinity) {
    out += "infinity";
  } else if (date.days == Date::kNegativeInfinity) {
    out += "-infinity";
  } else {
    append_iso_date(out, date.days);
  }
}

void append_rfc3339(std::string& out, Timestamp ts) {
  const std::int64_t micros = ts.micros;
  if (micros == Timestamp::kInfinity) {
    out += "infinity";
    return;
  }
  if (micros == Timestamp::kNegativeInfinity) {
    out += "-infinity";
    return;
  }
  std::int64_t days = floor_div(micros, kMicrosPerDay);
  auto of_day = static_cast<std::uint64_t>(micros - days * kMicrosPerDay);
  append_iso_date(out, days);
  out.push_back('T');
  append_hms(out, of_day / kMicrosPerHour, of_day / kMicrosPerMinute % 60,
             of_day / kMicrosPerSecond % 60);
  if (auto fraction = of_day % kMicrosPerSecond; fraction != 0) {
    out.push_back('.');
    append_padded(out, fraction, 6);
  }
  out.push_back('Z');
}

}  // namespace duckmesh::duck
