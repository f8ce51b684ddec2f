#include <sys/resource.h>

#include <algorithm>
#include <limits>

#include "obs/metrics.hpp"
#include "obs/procfs.hpp"

namespace duckmesh::obs {

void register_process_metrics(Registry& r) {
  auto& rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").get();
  auto& vsize = r.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").get();
  auto& cpu =
      r.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
          .get();
  auto& open_fds = r.gauge("process_open_fds", "Number of open file descriptors.").get();
  auto& max_fds = r.gauge("process_max_fds", "Maximum number of open file descriptors.").get();
  auto& start_time = r.gauge("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.")
                         .get();

  // The start time never changes, so it is computed once.
  auto times = procfs::read_process_times();
  auto boot = procfs::boot_time_seconds();
  if (times && boot) start_time.set(*boot + times->start_since_boot_seconds);

  auto refresh = [&rss, &vsize, &cpu, &open_fds, &max_fds](Registry&) {
    if (auto memory = procfs::read_process_memory()) {
      rss.set(static_cast<double>(memory->resident_bytes));
      vsize.set(static_cast<double>(memory->virtual_bytes));
    }
    // CPU time is read as a total; the counter is moved up to it, which keeps
    // it exact however many collectors (or calls of this function) there are.
    if (auto now = procfs::read_process_times()) {
      cpu.inc(std::max(0.0, now->cpu_seconds - cpu.value()));
    }
    if (auto fds = procfs::count_open_fds()) open_fds.set(static_cast<double>(*fds));
    // Same value as the soft limit on the "Max open files" line of
    // /proc/self/limits, without parsing text.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      max_fds.set(limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                                  : static_cast<double>(limit.rlim_cur));
    }
  };
  refresh(r);
  r.add_collector(std::move(refresh));
}

}  // namespace duckmesh::obs
