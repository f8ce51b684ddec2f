#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "common/error.hpp"
#include "obs/metrics.hpp"
#include "obs/procfs.hpp"

namespace duckmesh::obs {

namespace {

using Clock = std::chrono::steady_clock;

// Below this, /proc/stat's clock-tick granularity (usually 10 ms) makes the
// share of busy time too coarse to mean anything.
constexpr auto kMinCpuWindow = std::chrono::milliseconds(100);

Error unreadable(const std::string& source, const std::string& reason) {
  return Error(ErrorCode::internal, "cannot read system metrics from " + source + ": " + reason,
               {{"source", source}});
}

procfs::CpuTimes cpu_times_or_throw() {
  auto times = procfs::read_cpu_times();
  if (!times) throw unreadable("/proc/stat", "missing or malformed cpu line");
  return *times;
}

double busy_percent(const procfs::CpuTimes& before, const procfs::CpuTimes& after) {
  if (after.total <= before.total || after.busy < before.busy) return 0;
  double share = static_cast<double>(after.busy - before.busy) /
                 static_cast<double>(after.total - before.total);
  return std::clamp(share * 100.0, 0.0, 100.0);
}

// CPU usage since the previous call, shared by all callers in the process so
// that each call can answer at once instead of sleeping through a window.
double cpu_percent() {
  struct Sample {
    procfs::CpuTimes times;
    Clock::time_point at;
  };
  static std::mutex mutex;
  static std::optional<Sample> previous;

  std::optional<Sample> before;
  {
    std::lock_guard lock(mutex);
    before = previous;
  }
  if (!before || Clock::now() - before->at < kMinCpuWindow) {
    before = Sample{cpu_times_or_throw(), Clock::now()};
    std::this_thread::sleep_for(kMinCpuWindow);
  }
  Sample after{cpu_times_or_throw(), Clock::now()};
  {
    std::lock_guard lock(mutex);
    if (!previous || previous->at < after.at) previous = after;
  }
  return busy_percent(before->times, after.times);
}

}  // namespace

SystemMetrics read_system_metrics(const std::string& disk_path) {
  SystemMetrics m{};

  // The disk first: a bad path fails before the CPU window is waited out.
  struct statvfs fs {};
  if (::statvfs(disk_path.c_str(), &fs) != 0) {
    throw unreadable(disk_path, std::error_code(errno, std::generic_category()).message());
  }
  std::uint64_t block = fs.f_frsize;
  m.disk_total = static_cast<std::uint64_t>(fs.f_blocks) * block;
  m.disk_free = static_cast<std::uint64_t>(fs.f_bavail) * block;
  m.disk_used = static_cast<std::uint64_t>(fs.f_blocks - fs.f_bfree) * block;
  // Blocks reserved for root count neither as used nor as free, as in df.
  std::uint64_t usable = m.disk_used + m.disk_free;
  m.disk_percent =
      usable == 0 ? 0 : static_cast<double>(m.disk_used) / static_cast<double>(usable) * 100;

  m.cpu_percent = cpu_percent();
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  m.cpu_count = online > 0 ? static_cast<unsigned>(online)
                           : std::max(1u, std::thread::hardware_concurrency());

  auto memory = procfs::read_memory_info();
  if (!memory) throw unreadable("/proc/meminfo", "missing MemTotal or MemAvailable");
  m.mem_total = memory->total;
  m.mem_available = std::min(memory->available, memory->total);
  m.mem_used = m.mem_total - m.mem_available;
  m.mem_percent = m.mem_total == 0
                      ? 0
                      : static_cast<double>(m.mem_used) / static_cast<double>(m.mem_total) * 100;

  auto process = procfs::read_process_memory();
  if (!process) throw unreadable("/proc/self/statm", "missing or malformed");
  m.process_rss = process->resident_bytes;
  return m;
}

std::optional<std::uint64_t> resident_memory_bytes() {
  auto memory = procfs::read_process_memory();
  if (!memory) return std::nullopt;
  return memory->resident_bytes;
}

std::optional<std::uint64_t> memory_available_to_process() {
  auto info = procfs::read_memory_info();
  if (!info || info->total == 0) return std::nullopt;
  std::uint64_t limit = info->total;
  // "max" (v2) or a huge number (v1) mean no limit; either way the smaller wins.
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    auto text = procfs::read_text(path);
    if (!text) continue;
    try {
      std::size_t used = 0;
      const unsigned long long value = std::stoull(*text, &used);
      if (used > 0 && value > 0) limit = std::min<std::uint64_t>(limit, value);
    } catch (const std::exception&) {
      // "max": no limit here.
    }
  }
  return limit;
}

}  // namespace duckmesh::obs
