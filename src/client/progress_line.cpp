#include "client/progress_line.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace duckmesh::client {
namespace {

std::string duration_text(double seconds) {
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string((s % 3600) / 60) + " min";
}

constexpr auto kRedrawEvery = std::chrono::milliseconds(200);

}  // namespace

std::string progress_text(std::size_t events, double seconds, std::optional<double> fraction_done) {
  std::string out = std::to_string(events) + " events sent";
  if (seconds > 0) {
    out += ", " + std::to_string(std::llround(static_cast<double>(events) / seconds)) + " events/s";
  }
  if (fraction_done) {
    const double f = std::clamp(*fraction_done, 0.0, 1.0);
    out += ", " + std::to_string(static_cast<int>(std::floor(f * 100))) + "%";
    if (f > 0 && f < 1 && seconds > 0) {
      const double left = seconds * (1 - f) / f;
      out += left < 1 ? ", under 1 s left" : ", about " + duration_text(left) + " left";
    }
  }
  return out;
}

ProgressLine::ProgressLine(Console& console, std::optional<std::uintmax_t> total_bytes)
    : console_(console),
      total_bytes_(total_bytes && *total_bytes > 0 ? total_bytes : std::nullopt) {}

std::optional<double> ProgressLine::fraction() const {
  if (!total_bytes_) return std::nullopt;
  return static_cast<double>(bytes_read_) / static_cast<double>(*total_bytes_);
}

void ProgressLine::update(std::size_t events, std::size_t bytes_read) {
  events_ = events;
  bytes_read_ = bytes_read;
  if (!console_.err_is_terminal) return;
  const auto now = Clock::now();
  if (now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  draw();
}

void ProgressLine::message(const std::string& text) {
  clear();
  console_.err << text;
  if (!text.empty() && text.back() != '\n') console_.err << '\n';
  console_.err.flush();
  if (console_.err_is_terminal && events_ > 0) draw();
}

void ProgressLine::finish(std::size_t batches, std::size_t retries) {
  clear();
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  char took[32];
  std::snprintf(took, sizeof took, "%.2f s", seconds);
  std::string text = std::to_string(events_) + " events sent in " + std::to_string(batches) +
                     (batches == 1 ? " batch" : " batches") + " in " + took;
  if (seconds > 0) {
    text +=
        " (" + std::to_string(std::llround(static_cast<double>(events_) / seconds)) + " events/s";
    if (retries > 0)
      text += ", " + std::to_string(retries) + (retries == 1 ? " retry" : " retries");
    text += ")";
  }
  console_.err << text << '\n';
  console_.err.flush();
}

void ProgressLine::draw() {
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  std::string text = progress_text(events_, seconds, fraction());
  const std::size_t width = text.size();
  if (width < drawn_width_) text.append(drawn_width_ - width, ' ');
  console_.err << '\r' << text;
  console_.err.flush();
  drawn_width_ = width;
}

void ProgressLine::clear() {
  if (!console_.err_is_terminal || drawn_width_ == 0) return;
  console_.err << '\r' << std::string(drawn_width_, ' ') << '\r';
  drawn_width_ = 0;
}

}  // namespace duckmesh::client
