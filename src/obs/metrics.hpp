// Prometheus metrics: counters, gauges and histograms grouped in labelled
// families, held by a Registry that renders them in the Prometheus text
// exposition format 0.0.4.
//
// Thread safety: everything here may be used from any thread. Updating a
// metric (Counter::inc, Gauge::set, Histogram::observe...) is a few atomic
// operations and never takes a lock. Finding a child by label values
// (Family::with) takes the family's mutex; callers on a hot path look the
// child up once and keep the reference, which stays valid for as long as the
// Registry lives (children are never removed or moved).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace duckmesh::obs {

// Label name -> value, in the order the family declared its label names.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A value that only goes up (requests served, bytes written). Resets only
// when the process restarts.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // REQUIRES: v >= 0. A negative or NaN increment would break the promise
  // that the value never decreases, so it throws duckmesh::Error (internal).
  void inc(double v = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (queue depth, bytes in memory).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets by upper bound (an observation v lands in
// the first bucket whose bound is >= v, or in the implicit +Inf bucket) and
// keeps their sum.
class Histogram {
 public:
  // Consistent-enough view for exposition: `cumulative[i]` counts the
  // observations <= upper_bounds[i]; the last element of `cumulative` (one
  // more than upper_bounds) is the +Inf bucket and equals `count`. Taken while
  // other threads observe, `sum` may include an observation that the bucket
  // counts do not yet (or the reverse).
  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;
    std::uint64_t count = 0;
    double sum = 0;
  };

  // REQUIRES: upper_bounds strictly increasing, without NaN and without +Inf
  // (the +Inf bucket is always present). Registry::histogram checks this.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // NaN is counted in the +Inf bucket (and makes the sum NaN), as other
  // Prometheus clients do.
  void observe(double v);
  std::uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  // One slot per bound plus the +Inf slot; not cumulative.
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// All metrics of one name and kind, one child per distinct combination of
// label values. Obtained from Registry::counter/gauge/histogram; the
// constructor is public only so the registry can build it in place.
template <class M>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {});
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The child for these label values, given in the order of label_names();
  // the same values always return the same child, created on first use with
  // value zero. Throws duckmesh::Error (internal) when the number of values
  // differs from the number of label names.
  M& with(const std::vector<std::string>& label_values);

  // The only child of a family declared without label names. It exists from
  // registration on, so it is exposed (as zero) before its first update.
  // Throws duckmesh::Error (internal) when the family has label names.
  M& get();

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Upper bounds of each child's buckets (histograms only; empty otherwise).
  const std::vector<double>& buckets() const { return buckets_; }

  // Calls f(label_values, child) for every child in ascending order of label
  // values, holding the family's lock: f must not call with() or get() on
  // this family.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, child] : children_) f(values, child);
  }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mutex_;
  // std::map never moves its nodes, which keeps every handed-out M& valid.
  std::map<std::vector<std::string>, M> children_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// Owns metric families by name and renders them for a scrape.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process-wide registry that /metrics exposes. Created on first use and
  // never destroyed before exit, so references into it stay valid.
  static Registry& global();

  // Register (or find) a family. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*,
  // label names [a-zA-Z_][a-zA-Z0-9_]* without a leading "__" (and not "le"
  // for histograms). Registering a name again with the same kind, label names
  // (and, for histograms, buckets) returns the existing family and ignores
  // `help`; any other reuse of a name throws duckmesh::Error (internal), as do
  // invalid names and buckets that are not strictly increasing or contain NaN.
  // A trailing +Inf bucket is accepted and dropped (it is always implied).
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {},
                               std::vector<double> buckets = default_latency_buckets());

  // `collect` runs at the start of every expose(), one collector at a time,
  // to refresh values that are read rather than counted (process RSS...). It
  // may register and update metrics of this registry. An exception from it is
  // logged and the exposition goes on with the values it had.
  void add_collector(std::function<void(Registry&)> collect);

  // Prometheus text format 0.0.4: per family, in order of name, "# HELP" and
  // "# TYPE" lines then one sample per child (histograms: cumulative
  // _bucket{le="..."} including le="+Inf", then _sum and _count). Families
  // without any child yet (labelled, never used) are left out, as in other
  // Prometheus clients. Numbers are written the way Go's strconv formats them
  // ('g', shortest), e.g. 0.0005, 12, 1.5e+07, +Inf, NaN.
  std::string expose();

  // Seconds: .0005 .001 .0025 .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10
  static std::vector<double> default_latency_buckets();

 private:
  using Entry = std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
                             std::unique_ptr<Family<Histogram>>>;

  template <class M>
  Family<M>& register_family(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names, std::vector<double> buckets);

  std::mutex mutex_;  // guards families_ and collectors_
  std::map<std::string, Entry> families_;
  std::vector<std::function<void(Registry&)>> collectors_;
  // Serializes expose() so collectors never run concurrently with each other.
  std::mutex expose_mutex_;
};

// Registers the standard process metrics (names as in other Prometheus
// clients) and a collector that refreshes them from /proc/self before each
// exposition:
//   process_resident_memory_bytes, process_virtual_memory_bytes  (statm)
//   process_cpu_seconds_total (stat: utime + stime)
//   process_open_fds (entries of /proc/self/fd), process_max_fds (soft
//   RLIMIT_NOFILE, the "Max open files" line of /proc/self/limits)
//   process_start_time_seconds (stat starttime + btime of /proc/stat)
// A value that cannot be read keeps its previous value. Calling this twice on
// one registry is harmless.
void register_process_metrics(Registry& r);

// A one-off look at the machine, for the monitoring API.
struct SystemMetrics {
  double cpu_percent;                                // all CPUs busy share in [0, 100]
  unsigned cpu_count;                                // online logical CPUs
  std::uint64_t mem_total, mem_available, mem_used;  // bytes; used = total - available
  double mem_percent;                                // used / total * 100
  std::uint64_t disk_total, disk_used, disk_free;    // bytes of the file system holding the path;
                                                     // free = available to unprivileged users
  double disk_percent;                               // used / (used + free) * 100, as df shows
  std::uint64_t process_rss;                         // bytes resident for this process
};

// Bytes resident for this process (/proc/self/statm); nullopt when unreadable.
std::optional<std::uint64_t> resident_memory_bytes();

// Memory this process may use: the machine's MemTotal, or its control
// group's limit when that is lower (cgroup v2 memory.max, v1
// memory.limit_in_bytes); nullopt when MemTotal is unreadable.
std::optional<std::uint64_t> memory_available_to_process();

// Reads /proc/stat, /proc/meminfo, statvfs(disk_path) and /proc/self/statm.
// CPU usage is measured since the previous call when that was at least 100 ms
// ago; otherwise this call samples /proc/stat twice 100 ms apart (and blocks
// that long). Throws duckmesh::Error (internal) when a source cannot be read,
// e.g. disk_path does not exist.
SystemMetrics read_system_metrics(const std::string& disk_path);

}  // namespace duckmesh::obs
