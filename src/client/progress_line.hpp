// ProgressLine: how far a long ingest has come, on stderr.
//
// On a terminal, one line redrawn in place (at most a few times a second):
// events sent, events/s, and when the input size is known, the share done
// and the time left. Elsewhere (a log file, a pipe) nothing is drawn while
// running, and finish() writes one summary line. Messages (retries,
// rejections) go on their own lines without garbling the live line.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "client/console.hpp"

namespace duckmesh::client {

// "12000 events sent, 4000 events/s, 40%, about 18 s left"; the last two
// parts only when `fraction_done` is known.
std::string progress_text(std::size_t events, double seconds, std::optional<double> fraction_done);

class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;

  // `total_bytes`: the input's size when known, for the share done and time left.
  ProgressLine(Console& console, std::optional<std::uintmax_t> total_bytes);

  // Records progress; redraws the terminal line when due.
  void update(std::size_t events, std::size_t bytes_read);

  // Writes `text` (one or more lines) to stderr.
  void message(const std::string& text);

  // Ends the progress display with the final figures on one line.
  void finish(std::size_t batches, std::size_t retries);

 private:
  std::optional<double> fraction() const;
  void draw();
  void clear();

  Console& console_;
  std::optional<std::uintmax_t> total_bytes_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_draw_{};
  std::size_t events_ = 0;
  std::size_t bytes_read_ = 0;
  std::size_t drawn_width_ = 0;  // characters of the line on screen
};

}  // namespace duckmesh::client
