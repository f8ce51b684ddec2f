#include "obs/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <type_traits>

#include "common/error.hpp"
#include "obs/log.hpp"

namespace duckmesh::obs {

namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

boost::json::array to_json(const std::vector<std::string>& strings) {
  boost::json::array out;
  for (const auto& s : strings) out.emplace_back(s);
  return out;
}

// Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus and its Go
// client write, so scrapes read the same from every exporter: the shortest
// digits that round-trip, in exponent form when the decimal exponent is below
// -4 or at least 6 (1e+06, 1.5e-05), plain decimal otherwise (0.0005, 999999).
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  // sci is "[-]d[.ddd]e(+|-)XX".
  bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  auto e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  int exponent = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());

  if (negative) out += '-';
  if (exponent < -4 || exponent >= 6) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += exponent < 0 ? '-' : '+';
    int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
    return;
  }
  int point = exponent + 1;  // digits before the decimal point
  int n = static_cast<int>(digits.size());
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += digits;
  } else if (point >= n) {
    out += digits;
    out.append(static_cast<std::size_t>(point - n), '0');
  } else {
    out.append(digits, 0, static_cast<std::size_t>(point));
    out += '.';
    out.append(digits, static_cast<std::size_t>(point));
  }
}

void append_escaped_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// `{a="x",b="y"}` (plus `extra_name="extra_value"` last when given); nothing
// at all when there are no labels.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    append_escaped_label_value(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    append_escaped_label_value(out, extra_value);
    out += '"';
  }
  out += '}';
}

template <class M>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<M, Counter>) {
    return "counter";
  } else if constexpr (std::is_same_v<M, Gauge>) {
    return "gauge";
  } else {
    return "histogram";
  }
}

template <class M>
void append_family(std::string& out, const Family<M>& family) {
  std::string samples;
  family.for_each([&](const std::vector<std::string>& values, const M& child) {
    const auto& names = family.label_names();
    if constexpr (std::is_same_v<M, Histogram>) {
      auto snap = child.snapshot();
      std::string le;
      for (std::size_t i = 0; i < snap.cumulative.size(); ++i) {
        le.clear();
        if (i < snap.upper_bounds.size()) {
          append_number(le, snap.upper_bounds[i]);
        } else {
          le = "+Inf";
        }
        samples += family.name();
        samples += "_bucket";
        append_labels(samples, names, values, "le", le);
        samples += ' ';
        samples += std::to_string(snap.cumulative[i]);
        samples += '\n';
      }
      samples += family.name();
      samples += "_sum";
      append_labels(samples, names, values);
      samples += ' ';
      append_number(samples, snap.sum);
      samples += '\n';
      samples += family.name();
      samples += "_count";
      append_labels(samples, names, values);
      samples += ' ';
      samples += std::to_string(snap.count);
      samples += '\n';
    } else {
      samples += family.name();
      append_labels(samples, names, values);
      samples += ' ';
      append_number(samples, child.value());
      samples += '\n';
    }
  });
  if (samples.empty()) return;
  out += "# HELP ";
  out += family.name();
  out += ' ';
  append_escaped_help(out, family.help());
  out += "\n# TYPE ";
  out += family.name();
  out += ' ';
  out += type_name<M>();
  out += '\n';
  out += samples;
}

// Drops a trailing +Inf and checks the rest is strictly increasing and NaN-free.
std::vector<double> checked_buckets(const std::string& name, std::vector<double> buckets) {
  if (!buckets.empty() && buckets.back() == std::numeric_limits<double>::infinity()) {
    buckets.pop_back();
  }
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    bool ordered = i == 0 || buckets[i - 1] < buckets[i];
    if (std::isnan(buckets[i]) || !ordered) {
      throw Error(ErrorCode::internal,
                  "histogram buckets must be strictly increasing numbers: " + name,
                  {{"metric", name}});
    }
  }
  return buckets;
}

}  // namespace

void Counter::inc(double v) {
  if (!(v >= 0)) {
    throw Error(ErrorCode::internal, "a counter cannot be decreased", {{"increment", v}});
  }
  value_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {}

void Histogram::observe(double v) {
  // lower_bound finds the first bound >= v; NaN compares false with every
  // bound, so it is sent to the +Inf slot explicitly.
  std::size_t slot = upper_bounds_.size();
  if (!std::isnan(v)) {
    slot = static_cast<std::size_t>(
        std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) - upper_bounds_.begin());
  }
  buckets_[slot].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
  }
  return total;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.upper_bounds = upper_bounds_;
  snap.cumulative.reserve(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(running);
  }
  snap.count = running;
  snap.sum = sum();
  return snap;
}

template <class M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {
  if (label_names_.empty()) with({});
}

template <class M>
M& Family<M>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw Error(ErrorCode::internal,
                "metric " + name_ + " expects " + std::to_string(label_names_.size()) +
                    " label values, got " + std::to_string(label_values.size()),
                {{"metric", name_},
                 {"label_names", to_json(label_names_)},
                 {"label_values", to_json(label_values)}});
  }
  std::lock_guard lock(mutex_);
  auto it = children_.find(label_values);
  if (it != children_.end()) return it->second;
  if constexpr (std::is_same_v<M, Histogram>) {
    return children_.try_emplace(label_values, buckets_).first->second;
  } else {
    return children_.try_emplace(label_values).first->second;
  }
}

template <class M>
M& Family<M>::get() {
  if (!label_names_.empty()) {
    throw Error(ErrorCode::internal, "metric " + name_ + " has labels; use with(label values)",
                {{"metric", name_}, {"label_names", to_json(label_names_)}});
  }
  return with({});
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry& Registry::global() {
  // Leaked on purpose: metrics are updated from threads that may still run
  // while static destructors do, and cached M& must never dangle.
  static Registry* registry = new Registry();
  return *registry;
}

template <class M>
Family<M>& Registry::register_family(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  if (!valid_metric_name(name)) {
    throw Error(ErrorCode::internal, "invalid metric name: " + name, {{"metric", name}});
  }
  for (const auto& label : label_names) {
    bool reserved = std::is_same_v<M, Histogram> && label == "le";
    if (!valid_label_name(label) || reserved) {
      throw Error(ErrorCode::internal, "invalid label name " + label + " for metric " + name,
                  {{"metric", name}, {"label", label}});
    }
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    for (std::size_t j = i + 1; j < label_names.size(); ++j) {
      if (label_names[i] == label_names[j]) {
        throw Error(ErrorCode::internal,
                    "duplicate label name " + label_names[i] + " for metric " + name,
                    {{"metric", name}, {"label", label_names[i]}});
      }
    }
  }
  if constexpr (std::is_same_v<M, Histogram>) buckets = checked_buckets(name, std::move(buckets));

  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<Family<M>>>(&it->second);
    if (existing == nullptr) {
      throw Error(ErrorCode::internal, "metric " + name + " is already registered as another kind",
                  {{"metric", name}, {"kind", type_name<M>()}});
    }
    Family<M>& family = **existing;
    if (family.label_names() != label_names || family.buckets() != buckets) {
      throw Error(ErrorCode::internal,
                  "metric " + name + " is already registered with other labels or buckets",
                  {{"metric", name},
                   {"registered_labels", to_json(family.label_names())},
                   {"requested_labels", to_json(label_names)}});
    }
    return family;
  }
  auto family = std::make_unique<Family<M>>(name, help, std::move(label_names), std::move(buckets));
  Family<M>& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return register_family<Counter>(name, help, std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  return register_family<Gauge>(name, help, std::move(label_names), {});
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       std::vector<double> buckets) {
  return register_family<Histogram>(name, help, std::move(label_names), std::move(buckets));
}

void Registry::add_collector(std::function<void(Registry&)> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::expose() {
  std::lock_guard expose_lock(expose_mutex_);

  // Collectors register and update metrics, which takes mutex_, so they run
  // on a copy of the list without it held.
  std::vector<std::function<void(Registry&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (auto& collect : collectors) {
    try {
      collect(*this);
    } catch (const std::exception& e) {
      log::warn("metrics collector failed", {{"error", e.what()}});
    }
  }

  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, entry] : families_) {
    std::visit([&out](const auto& family) { append_family(out, *family); }, entry);
  }
  return out;
}

std::vector<double> Registry::default_latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace duckmesh::obs
