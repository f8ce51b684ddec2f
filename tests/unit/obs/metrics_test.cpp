#include "obs/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"

namespace duckmesh::obs {
namespace {

// The sample line of a metric with no labels, e.g. "name 12", or "" if absent.
std::string sample_line(const std::string& text, const std::string& name) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    if (line.rfind(name + " ", 0) == 0) return line;
    pos = end + 1;
  }
  return "";
}

TEST(Counter, StartsAtZeroAndAdds) {
  Counter c;
  EXPECT_EQ(c.value(), 0);
  c.inc();
  c.inc(2.5);
  c.inc(0);
  EXPECT_DOUBLE_EQ(c.value(), 3.5);
}

TEST(Counter, RefusesToGoDown) {
  Counter c;
  c.inc(2);
  try {
    c.inc(-1);
    FAIL() << "negative increment accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
  }
  EXPECT_THROW(c.inc(std::numeric_limits<double>::quiet_NaN()), Error);
  EXPECT_EQ(c.value(), 2);
}

TEST(Gauge, SetsAndMovesBothWays) {
  Gauge g;
  g.set(10);
  g.inc();
  g.inc(4);
  g.dec();
  g.dec(20);
  EXPECT_DOUBLE_EQ(g.value(), -6);
  g.set(0.25);
  EXPECT_DOUBLE_EQ(g.value(), 0.25);
}

TEST(Histogram, CountsIntoBucketsByUpperBoundInclusive) {
  Histogram h({1, 2, 5});
  h.observe(0.5);
  h.observe(1);  // on the bound: belongs to le="1"
  h.observe(1.5);
  h.observe(5);
  h.observe(6);
  h.observe(-3);
  EXPECT_EQ(h.count(), 6u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.5 + 1 + 1.5 + 5 + 6 - 3);
  auto snap = h.snapshot();
  EXPECT_EQ(snap.upper_bounds, (std::vector<double>{1, 2, 5}));
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(snap.count, 6u);
}

TEST(Histogram, NanGoesToInfBucket) {
  Histogram h({1});
  h.observe(std::numeric_limits<double>::quiet_NaN());
  auto snap = h.snapshot();
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_TRUE(std::isnan(snap.sum));
}

TEST(Family, SameLabelValuesGiveSameChild) {
  Registry r;
  auto& f = r.counter("requests_total", "Requests.", {"method", "status"});
  auto& a = f.with({"GET", "200"});
  auto& b = f.with({"GET", "500"});
  EXPECT_NE(&a, &b);
  EXPECT_EQ(&a, &f.with({"GET", "200"}));
  a.inc();
  f.with({"GET", "200"}).inc(2);
  b.inc();
  EXPECT_EQ(a.value(), 3);
  EXPECT_EQ(b.value(), 1);
}

TEST(Family, WrongNumberOfLabelValuesThrowsInternal) {
  Registry r;
  auto& f = r.gauge("queue_depth", "Depth.", {"queue"});
  try {
    f.with({"a", "b"});
    FAIL() << "two values for one label accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
  }
  EXPECT_THROW(f.with({}), Error);
  EXPECT_THROW(f.get(), Error);
}

TEST(Family, UnlabelledChildExistsFromRegistration) {
  Registry r;
  auto& f = r.counter("started_total", "Starts.");
  EXPECT_EQ(&f.get(), &f.with({}));
  EXPECT_EQ(sample_line(r.expose(), "started_total"), "started_total 0");
}

TEST(Family, ChildReferencesSurviveManyNewChildren) {
  Registry r;
  auto& f = r.histogram("op_seconds", "Ops.", {"op"});
  auto& first = f.with({"first"});
  first.observe(0.2);
  for (int i = 0; i < 2000; ++i) f.with({"op" + std::to_string(i)}).observe(1);
  EXPECT_EQ(&first, &f.with({"first"}));
  EXPECT_EQ(first.count(), 1u);
  EXPECT_DOUBLE_EQ(first.sum(), 0.2);
}

TEST(Registry, SameRegistrationReturnsSameFamily) {
  Registry r;
  auto& a = r.counter("jobs_total", "Jobs.", {"kind"});
  auto& b = r.counter("jobs_total", "Other help is ignored.", {"kind"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(b.help(), "Jobs.");
  auto& h1 = r.histogram("wait_seconds", "Wait.");
  auto& h2 = r.histogram("wait_seconds", "Wait.", {}, Registry::default_latency_buckets());
  EXPECT_EQ(&h1, &h2);
}

TEST(Registry, ClashingRegistrationThrowsInternal) {
  Registry r;
  r.counter("jobs_total", "Jobs.", {"kind"});
  auto expect_internal = [](auto&& f) {
    try {
      f();
      ADD_FAILURE() << "clash accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::internal);
    }
  };
  expect_internal([&] { r.gauge("jobs_total", "Jobs.", {"kind"}); });
  expect_internal([&] { r.histogram("jobs_total", "Jobs.", {"kind"}); });
  expect_internal([&] { r.counter("jobs_total", "Jobs."); });
  expect_internal([&] { r.counter("jobs_total", "Jobs.", {"kind", "queue"}); });
  expect_internal([&] { r.counter("jobs_total", "Jobs.", {"queue"}); });
  r.histogram("lat_seconds", "Latency.", {}, {1, 2});
  expect_internal([&] { r.histogram("lat_seconds", "Latency.", {}, {1, 3}); });
}

TEST(Registry, RejectsInvalidNamesAndBuckets) {
  Registry r;
  EXPECT_THROW(r.counter("", "x"), Error);
  EXPECT_THROW(r.counter("1abc", "x"), Error);
  EXPECT_THROW(r.counter("has-dash", "x"), Error);
  EXPECT_THROW(r.counter("ok_total", "x", {"bad-label"}), Error);
  EXPECT_THROW(r.counter("ok_total", "x", {"__reserved"}), Error);
  EXPECT_THROW(r.counter("ok_total", "x", {"a", "a"}), Error);
  EXPECT_THROW(r.histogram("h_seconds", "x", {"le"}), Error);
  EXPECT_THROW(r.histogram("h_seconds", "x", {}, {1, 1}), Error);
  EXPECT_THROW(r.histogram("h_seconds", "x", {}, {2, 1}), Error);
  EXPECT_THROW(r.histogram("h_seconds", "x", {}, {1, std::nan("")}), Error);
  EXPECT_NO_THROW(r.counter("ns:sub_total", "colons allowed", {"_under", "a1"}));
  // A trailing +Inf is the implied bucket, not a second one.
  auto& h = r.histogram("inf_seconds", "x", {}, {1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(h.buckets(), std::vector<double>{1});
}

TEST(Registry, DefaultLatencyBuckets) {
  EXPECT_EQ(Registry::default_latency_buckets(),
            (std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                 2.5, 5, 10}));
}

TEST(Registry, ExpositionTextOfSmallRegistry) {
  Registry r;
  auto& requests =
      r.counter("dm_requests_total", "Requests served.\nBy path \\ and code.", {"path", "code"});
  requests.with({"/a\"b\\c\nd", "200"}).inc(3);
  requests.with({"/", "500"}).inc();
  r.gauge("dm_queue_depth", "Items waiting.").get().set(-2.5);
  auto& latency = r.histogram("dm_latency_seconds", "Latency.", {"route"}, {0.25, 1, 2.5});
  auto& x = latency.with({"x"});
  x.observe(0.125);
  x.observe(0.25);
  x.observe(2);
  x.observe(100);
  // Labelled and never used: nothing to expose yet.
  r.counter("dm_unused_total", "Never used.", {"kind"});

  const std::string expected =
      "# HELP dm_latency_seconds Latency.\n"
      "# TYPE dm_latency_seconds histogram\n"
      "dm_latency_seconds_bucket{route=\"x\",le=\"0.25\"} 2\n"
      "dm_latency_seconds_bucket{route=\"x\",le=\"1\"} 2\n"
      "dm_latency_seconds_bucket{route=\"x\",le=\"2.5\"} 3\n"
      "dm_latency_seconds_bucket{route=\"x\",le=\"+Inf\"} 4\n"
      "dm_latency_seconds_sum{route=\"x\"} 102.375\n"
      "dm_latency_seconds_count{route=\"x\"} 4\n"
      "# HELP dm_queue_depth Items waiting.\n"
      "# TYPE dm_queue_depth gauge\n"
      "dm_queue_depth -2.5\n"
      "# HELP dm_requests_total Requests served.\\nBy path \\\\ and code.\n"
      "# TYPE dm_requests_total counter\n"
      "dm_requests_total{path=\"/\",code=\"500\"} 1\n"
      "dm_requests_total{path=\"/a\\\"b\\\\c\\nd\",code=\"200\"} 3\n";
  EXPECT_EQ(r.expose(), expected);
}

TEST(Registry, HistogramWithoutLabelsHasOnlyLeLabel) {
  Registry r;
  r.histogram("plain_seconds", "Plain.", {}, {1}).get().observe(0.5);
  auto text = r.expose();
  EXPECT_NE(text.find("plain_seconds_bucket{le=\"1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plain_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plain_seconds_sum 0.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plain_seconds_count 1\n"), std::string::npos) << text;
}

TEST(Registry, DefaultBucketBoundsAreWrittenInPlainDecimal) {
  Registry r;
  r.histogram("d_seconds", "D.").get();
  auto text = r.expose();
  for (const char* le : {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}) {
    EXPECT_NE(text.find(std::string("d_seconds_bucket{le=\"") + le + "\"} 0\n"), std::string::npos)
        << le << "\n"
        << text;
  }
}

TEST(Registry, NumbersAreFormattedLikeGo) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {12, "12"},
      {999999, "999999"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {123456.5, "123456.5"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {1e100, "1e+100"},
      {0.1, "0.1"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& c : cases) {
    Registry r;
    r.gauge("v", "V.").get().set(c.value);
    EXPECT_EQ(sample_line(r.expose(), "v"), std::string("v ") + c.text) << c.text;
  }
}

TEST(Registry, CollectorsRunBeforeEachExposition) {
  Registry r;
  int runs = 0;
  r.add_collector([&runs](Registry& reg) {
    ++runs;
    reg.gauge("collected", "Set by a collector.").get().set(runs);
  });
  EXPECT_EQ(sample_line(r.expose(), "collected"), "collected 1");
  EXPECT_EQ(sample_line(r.expose(), "collected"), "collected 2");
}

TEST(Registry, FailingCollectorDoesNotBreakExposition) {
  Registry r;
  r.counter("kept_total", "Kept.").get().inc(4);
  r.add_collector([](Registry&) { throw std::runtime_error("cannot read"); });
  EXPECT_EQ(sample_line(r.expose(), "kept_total"), "kept_total 4");
}

TEST(Registry, GlobalIsOneInstance) {
  EXPECT_EQ(&Registry::global(), &Registry::global());
}

TEST(Concurrency, IncrementsFromManyThreadsAllCount) {
  Registry r;
  auto& counters = r.counter("hits_total", "Hits.", {"shard"});
  auto& gauge = r.gauge("inflight", "In flight.").get();
  auto& histogram = r.histogram("work_seconds", "Work.", {}, {0.5});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = counters.with({"shared"});
      for (int i = 0; i < kPerThread; ++i) {
        mine.inc();
        counters.with({"by_lookup"}).inc(2);
        gauge.inc();
        gauge.dec();
        histogram.get().observe(i % 2 == 0 ? 0.25 : 1.0);
        if (i % 1000 == 0) {
          // Registration and exposition racing with updates.
          r.counter("hits_total", "Hits.", {"shard"}).with({"t" + std::to_string(t)}).inc();
          r.expose();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counters.with({"shared"}).value(), kThreads * kPerThread);
  EXPECT_EQ(counters.with({"by_lookup"}).value(), 2.0 * kThreads * kPerThread);
  EXPECT_EQ(gauge.value(), 0);
  auto snap = histogram.get().snapshot();
  EXPECT_EQ(snap.count, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(snap.cumulative[0], static_cast<std::uint64_t>(kThreads * kPerThread / 2));
  EXPECT_DOUBLE_EQ(snap.sum, kThreads * (kPerThread / 2) * (0.25 + 1.0));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(counters.with({"t" + std::to_string(t)}).value(), kPerThread / 1000);
  }
}

TEST(Concurrency, RacingRegistrationsAgreeOnOneFamily) {
  Registry r;
  constexpr int kThreads = 8;
  std::vector<Family<Counter>*> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { seen[t] = &r.counter("race_total", "Race.", {"a"}); });
  }
  for (auto& th : threads) th.join();
  for (auto* f : seen) EXPECT_EQ(f, seen[0]);
}

}  // namespace
}  // namespace duckmesh::obs
