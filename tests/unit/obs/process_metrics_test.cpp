#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "obs/metrics.hpp"

namespace duckmesh::obs {
namespace {

// Value of the unlabelled sample `name` in an exposition; fails the test when
// it is missing.
double sample(const std::string& text, const std::string& name) {
  auto pos = text.find("\n" + name + " ");
  if (pos == std::string::npos) {
    ADD_FAILURE() << name << " missing from:\n" << text;
    return -1;
  }
  return std::strtod(text.c_str() + pos + name.size() + 2, nullptr);
}

void burn_cpu(std::chrono::milliseconds how_long) {
  auto until = std::chrono::steady_clock::now() + how_long;
  volatile double sink = 0;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1000; ++i) sink = sink + i * 0.5;
  }
}

TEST(ProcessMetrics, AllPresentWithTypes) {
  Registry r;
  register_process_metrics(r);
  auto text = r.expose();
  for (const char* line : {
           "# TYPE process_resident_memory_bytes gauge\n",
           "# TYPE process_virtual_memory_bytes gauge\n",
           "# TYPE process_cpu_seconds_total counter\n",
           "# TYPE process_open_fds gauge\n",
           "# TYPE process_max_fds gauge\n",
           "# TYPE process_start_time_seconds gauge\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

TEST(ProcessMetrics, ValuesArePlausible) {
  Registry r;
  register_process_metrics(r);
  auto text = r.expose();
  double rss = sample(text, "process_resident_memory_bytes");
  double vsize = sample(text, "process_virtual_memory_bytes");
  EXPECT_GT(rss, 1024 * 1024);  // a gtest binary with libstdc++ is bigger than 1 MiB
  EXPECT_GE(vsize, rss);

  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double start = sample(text, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 600) << "this test process did not start in the last 10 minutes";

  double open = sample(text, "process_open_fds");
  double max = sample(text, "process_max_fds");
  EXPECT_GE(open, 3);  // stdin, stdout, stderr
  EXPECT_GE(max, open);
  EXPECT_GE(sample(text, "process_cpu_seconds_total"), 0);
}

// Open descriptors counted by probing each number below the soft limit, an
// independent source that opens nothing itself.
double probed_open_fds() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  int probed = 0;
  for (rlim_t fd = 0; fd < limit.rlim_cur && fd < 1u << 20; ++fd) {
    if (::fcntl(static_cast<int>(fd), F_GETFD) != -1) ++probed;
  }
  return probed;
}

TEST(ProcessMetrics, OpenFdsCountsExactlyTheOpenDescriptors) {
  Registry r;
  register_process_metrics(r);
  EXPECT_EQ(sample(r.expose(), "process_open_fds"), probed_open_fds());
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  EXPECT_EQ(sample(r.expose(), "process_max_fds"), static_cast<double>(limit.rlim_cur));
}

TEST(ProcessMetrics, RefreshedOnEachExposition) {
  Registry r;
  register_process_metrics(r);
  auto before = r.expose();

  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  burn_cpu(std::chrono::milliseconds(300));
  auto after = r.expose();
  for (int fd : fds) ::close(fd);

  EXPECT_EQ(sample(after, "process_open_fds"), sample(before, "process_open_fds") + 5);
  EXPECT_GT(sample(after, "process_cpu_seconds_total"),
            sample(before, "process_cpu_seconds_total"));
  EXPECT_EQ(sample(after, "process_start_time_seconds"),
            sample(before, "process_start_time_seconds"));
}

// CPU time of this process as getrusage reports it, an independent source.
double rusage_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

TEST(ProcessMetrics, CpuSecondsMatchRusageEvenWhenRegisteredTwice) {
  Registry r;
  register_process_metrics(r);
  register_process_metrics(r);
  burn_cpu(std::chrono::milliseconds(300));
  // /proc counts in clock ticks (10 ms), getrusage in microseconds.
  constexpr double kTick = 0.02;
  double before = rusage_cpu_seconds();
  double exposed = sample(r.expose(), "process_cpu_seconds_total");
  double after = rusage_cpu_seconds();
  EXPECT_GE(exposed, before - kTick);
  EXPECT_LE(exposed, after + kTick);
}

TEST(SystemMetrics, Plausible) {
  auto m = read_system_metrics("/");
  EXPECT_GE(m.cpu_count, 1u);
  EXPECT_GE(m.cpu_percent, 0);
  EXPECT_LE(m.cpu_percent, 100);
  EXPECT_GT(m.mem_total, 0u);
  EXPECT_LE(m.mem_available, m.mem_total);
  EXPECT_EQ(m.mem_used, m.mem_total - m.mem_available);
  EXPECT_GE(m.mem_percent, 0);
  EXPECT_LE(m.mem_percent, 100);
  EXPECT_GT(m.disk_total, 0u);
  EXPECT_LE(m.disk_used + m.disk_free, m.disk_total);
  EXPECT_GE(m.disk_percent, 0);
  EXPECT_LE(m.disk_percent, 100);
  EXPECT_GT(m.process_rss, 0u);
}

TEST(SystemMetrics, ResidentAndAvailableMemory) {
  const auto resident = resident_memory_bytes();
  ASSERT_TRUE(resident.has_value());
  const auto before = *resident;
  EXPECT_GT(before, 0u);
  // Touching 64 MiB more makes it resident.
  std::vector<char> block(64u << 20, 1);
  const auto after = resident_memory_bytes().value_or(0);
  EXPECT_GE(after, before + (48u << 20)) << static_cast<int>(block[12345]);

  const auto available = memory_available_to_process();
  ASSERT_TRUE(available.has_value());
  EXPECT_GT(*available, after);
  EXPECT_LE(*available, read_system_metrics("/").mem_total);
}

TEST(SystemMetrics, SeesBusyCpu) {
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    while (!stop.load()) burn_cpu(std::chrono::milliseconds(10));
  });
  // The first call may only set the baseline; the second measures over the
  // 150 ms of spinning in between.
  read_system_metrics("/");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto m = read_system_metrics("/");
  stop = true;
  spinner.join();
  EXPECT_GT(m.cpu_percent, 0);
  EXPECT_LE(m.cpu_percent, 100);
}

TEST(SystemMetrics, MissingDiskPathThrowsInternal) {
  try {
    read_system_metrics("/definitely/not/a/path/for/duckmesh");
    FAIL() << "missing path accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(std::string(e.message()).find("/definitely/not"), std::string::npos);
  }
}

}  // namespace
}  // namespace duckmesh::obs
