// `duckmesh shell`: an interactive SQL prompt against one product of a
// running server.
//
// Statements end with ';' and may span lines; each runs as its own query and
// prints in the current format (an aligned table by default). Lines starting
// with a backslash, typed between statements, are commands:
//   \q               quit (end of input does too)
//   \tables          the product's tables
//   \snapshot N      read snapshot N in the following queries
//   \snapshot latest read the latest snapshot again
//   \format F        table, csv, json or ndjson
//   \history         the statements entered before
//   \help            this list
// With a terminal on standard input it prompts and keeps a history file;
// with piped input it runs the script silently (no prompt, no history), and
// exits non-zero if any statement failed, so scripts can check it.
#pragma once

#include <deque>
#include <filesystem>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "client/console.hpp"
#include "client/http_client.hpp"
#include "client/retry.hpp"

namespace duckmesh::client {

// Cuts typed text into statements at each ';' that is not inside a quoted
// string ('...'), a quoted name ("..."), or a comment (-- to the end of the
// line, /* ... */). Line comments are dropped; everything else is kept.
class StatementSplitter {
 public:
  // Adds one line of input (without its line break); returns the statements
  // it completed, trimmed and without their ';' (empty ones are skipped).
  std::vector<std::string> add_line(std::string_view line);

  // True when no statement is partly entered.
  bool idle() const;

  // The partly entered text, which is then forgotten.
  std::string take_pending();

 private:
  enum class State { code, single_quoted, double_quoted, block_comment };
  State state_ = State::code;
  std::string pending_;
};

// Lines entered in earlier sessions, kept in a file: one entry a line,
// appended as entered, and the most recent `keep` loaded at start.
class History {
 public:
  explicit History(std::filesystem::path file, std::size_t keep = 1000);

  // Reads the file; a missing file is an empty history.
  void load();

  // Adds an entry (line breaks in it become spaces) in memory and at the
  // end of the file. Returns false when the file cannot be written; the
  // entry is still kept for this session.
  bool add(std::string_view entry);

  const std::deque<std::string>& entries() const { return entries_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::size_t keep_;
  std::deque<std::string> entries_;
};

// $DUCKMESH_HISTORY when set, else ~/.duckmesh_history ($HOME), else empty
// (no history kept).
std::filesystem::path default_history_file();

struct ShellCommand {
  ServerAddress server;
  std::string product;
  std::filesystem::path history_file;  // empty: none
  // A person is waiting: fewer attempts than a batch job would make.
  RetryPolicy retry = [] {
    RetryPolicy p;
    p.max_attempts = 3;
    return p;
  }();
  HttpClientOptions http;
};

// Runs the shell over `in` until \q or the end of input. Returns kExitOk,
// or kExitFailed when the product cannot be reached or, with piped input,
// when a statement or command failed.
int run_shell(const ShellCommand& command, Console& console, std::istream& in);

}  // namespace duckmesh::client
