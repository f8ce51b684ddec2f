// Readers for the Linux /proc files the process and system metrics come from.
// Each returns std::nullopt when the file is missing or not in the expected
// shape, so callers decide whether that is an error (the monitoring API) or
// a value left as it was (a scrape).
//
// Internal to src/obs; not part of the module's interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace duckmesh::obs::procfs {

// The whole file, or nullopt when it cannot be opened.
std::optional<std::string> read_text(const std::string& path);

// From /proc/self/stat, converted to seconds.
struct ProcessTimes {
  double cpu_seconds;               // utime + stime
  double start_since_boot_seconds;  // starttime
};
std::optional<ProcessTimes> read_process_times();

// From /proc/self/statm, converted to bytes.
struct ProcessMemory {
  std::uint64_t virtual_bytes;
  std::uint64_t resident_bytes;
};
std::optional<ProcessMemory> read_process_memory();

// Number of open file descriptors of this process (entries of /proc/self/fd,
// not counting the one used to list them).
std::optional<std::uint64_t> count_open_fds();

// "btime" of /proc/stat: when the machine booted, in seconds since the epoch.
std::optional<double> boot_time_seconds();

// The aggregate "cpu" line of /proc/stat, in clock ticks since boot.
struct CpuTimes {
  std::uint64_t busy;   // everything but idle and iowait
  std::uint64_t total;  // busy + idle + iowait
};
std::optional<CpuTimes> read_cpu_times();

// MemTotal and MemAvailable of /proc/meminfo, in bytes.
struct MemoryInfo {
  std::uint64_t total;
  std::uint64_t available;
};
std::optional<MemoryInfo> read_memory_info();

}  // namespace duckmesh::obs::procfs
