#include "obs/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>

#include "common/calendar.hpp"
#include "common/json_text.hpp"

namespace duckmesh::log {

namespace {

struct LoggerState {
  std::atomic<Level> threshold{Level::info};
  std::mutex mutex;  // guards logger
  std::shared_ptr<spdlog::logger> logger;
};

LoggerState& state() {
  // Never destroyed: threads may still log while static destructors run.
  static LoggerState& s = *new LoggerState();
  return s;
}

thread_local std::string t_request_id;

std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink) {
  // Not registered with spdlog's global registry, so init can run any number
  // of times without name clashes. The JSON line is built here; spdlog only
  // adds the newline and serializes writers through the sink's mutex.
  auto logger = std::make_shared<spdlog::logger>("duckmesh", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  return logger;
}

void install(Level level, std::shared_ptr<spdlog::logger> logger) {
  auto& s = state();
  {
    std::lock_guard lock(s.mutex);
    s.logger = std::move(logger);
  }
  s.threshold.store(level, std::memory_order_relaxed);
}

std::shared_ptr<spdlog::logger> current_logger() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.logger) s.logger = make_logger(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return s.logger;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::err;
}

// 2026-11-25T09:12:28.123456Z
std::string utc_timestamp(std::chrono::system_clock::time_point now) {
  return calendar::iso_utc(
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
}

bool reserved_key(std::string_view key) {
  return key == "time" || key == "level" || key == "message" || key == "request_id";
}

}  // namespace

std::optional<Level> parse_level(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "trace") return Level::trace;
  if (lower == "debug") return Level::debug;
  if (lower == "info") return Level::info;
  if (lower == "warn" || lower == "warning") return Level::warn;
  if (lower == "error") return Level::error;
  return std::nullopt;
}

std::string_view to_string(Level l) {
  switch (l) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "error";
}

void init(Level level) {
  install(level, make_logger(std::make_shared<spdlog::sinks::stderr_sink_mt>()));
}

void init_with_stream(Level level, std::ostream& out) {
  install(level, make_logger(std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true)));
}

void set_level(Level level) {
  state().threshold.store(level, std::memory_order_relaxed);
}

Level level() {
  return state().threshold.load(std::memory_order_relaxed);
}

void write(Level lvl, std::string_view message, boost::json::object fields) {
  if (lvl < level()) return;
  auto now = std::chrono::system_clock::now();

  boost::json::object line;
  line.reserve(fields.size() + 4);
  line["time"] = utc_timestamp(now);
  line["level"] = to_string(lvl);
  line["message"] = message;
  if (!t_request_id.empty()) line["request_id"] = t_request_id;
  for (auto& field : fields) {
    if (reserved_key(field.key())) {
      std::string renamed = "field_";
      renamed += field.key();
      line[renamed] = std::move(field.value());
    } else {
      line[field.key()] = std::move(field.value());
    }
  }
  std::string text = to_json_text(line);
  current_logger()->log(to_spdlog(lvl), spdlog::string_view_t(text.data(), text.size()));
}

RequestScope::RequestScope(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

RequestScope::~RequestScope() {
  t_request_id = std::move(previous_);
}

std::string_view current_request_id() {
  return t_request_id;
}

}  // namespace duckmesh::log
