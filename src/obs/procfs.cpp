#include "obs/procfs.hpp"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <vector>

namespace duckmesh::obs::procfs {

namespace {

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

double clock_ticks_per_second() {
  long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : 100.0;
}

std::uint64_t page_size() {
  long size = ::sysconf(_SC_PAGESIZE);
  return size > 0 ? static_cast<std::uint64_t>(size) : 4096;
}

// The line of `text` that starts with `key`, without the key.
std::optional<std::string_view> line_after(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.starts_with(key)) return line.substr(key.size());
    pos = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> read_text(const std::string& path) {
  // /proc files report size 0, so read until EOF rather than by size.
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return buffer.str();
}

std::optional<ProcessTimes> read_process_times() {
  auto text = read_text("/proc/self/stat");
  if (!text) return std::nullopt;
  // The command name (field 2) is in parentheses and may itself contain
  // spaces and ')', so fields are counted from the last ')'.
  auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  auto fields = split_spaces(std::string_view(*text).substr(close + 1));
  // fields[0] is field 3 (state); utime, stime, starttime are fields 14, 15, 22.
  constexpr std::size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3;
  if (fields.size() <= kStart) return std::nullopt;
  auto utime = parse_u64(fields[kUtime]);
  auto stime = parse_u64(fields[kStime]);
  auto start = parse_u64(fields[kStart]);
  if (!utime || !stime || !start) return std::nullopt;
  double hz = clock_ticks_per_second();
  return ProcessTimes{static_cast<double>(*utime + *stime) / hz, static_cast<double>(*start) / hz};
}

std::optional<ProcessMemory> read_process_memory() {
  auto text = read_text("/proc/self/statm");
  if (!text) return std::nullopt;
  auto fields = split_spaces(*text);
  if (fields.size() < 2) return std::nullopt;
  auto size = parse_u64(fields[0]);
  auto resident = parse_u64(fields[1]);
  if (!size || !resident) return std::nullopt;
  return ProcessMemory{*size * page_size(), *resident * page_size()};
}

std::optional<std::uint64_t> count_open_fds() {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"), &::closedir);
  if (!dir) return std::nullopt;
  std::string own = std::to_string(::dirfd(dir.get()));
  std::uint64_t count = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name == own) continue;
    ++count;
  }
  return count;
}

std::optional<double> boot_time_seconds() {
  auto text = read_text("/proc/stat");
  if (!text) return std::nullopt;
  auto rest = line_after(*text, "btime ");
  if (!rest) return std::nullopt;
  auto fields = split_spaces(*rest);
  if (fields.empty()) return std::nullopt;
  auto btime = parse_u64(fields[0]);
  if (!btime) return std::nullopt;
  return static_cast<double>(*btime);
}

std::optional<CpuTimes> read_cpu_times() {
  auto text = read_text("/proc/stat");
  if (!text) return std::nullopt;
  auto rest = line_after(*text, "cpu ");
  if (!rest) return std::nullopt;
  // user nice system idle iowait irq softirq steal [guest guest_nice]; guest
  // time is already included in user and nice, so it is not added again.
  auto fields = split_spaces(*rest);
  if (fields.size() < 4) return std::nullopt;
  std::uint64_t values[8] = {};
  for (std::size_t i = 0; i < 8 && i < fields.size(); ++i) {
    auto v = parse_u64(fields[i]);
    if (!v) return std::nullopt;
    values[i] = *v;
  }
  std::uint64_t idle = values[3] + values[4];
  std::uint64_t busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7];
  return CpuTimes{busy, busy + idle};
}

std::optional<MemoryInfo> read_memory_info() {
  auto text = read_text("/proc/meminfo");
  if (!text) return std::nullopt;
  auto kib = [&](std::string_view key) -> std::optional<std::uint64_t> {
    auto rest = line_after(*text, key);
    if (!rest) return std::nullopt;
    auto fields = split_spaces(*rest);
    if (fields.empty()) return std::nullopt;
    return parse_u64(fields[0]);
  };
  auto total = kib("MemTotal:");
  auto available = kib("MemAvailable:");
  if (!total || !available) return std::nullopt;
  return MemoryInfo{*total * 1024, *available * 1024};
}

}  // namespace duckmesh::obs::procfs
