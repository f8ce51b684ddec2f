#include "client/shell.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "client/failure.hpp"
#include "client/query_command.hpp"
#include "client/server_error.hpp"
#include "client/text_table.hpp"
#include "common/error.hpp"

namespace duckmesh::client {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

constexpr const char* kHelp =
    "Statements end with ';' and may span lines. Commands:\n"
    "  \\q                 quit\n"
    "  \\tables            list the product's tables\n"
    "  \\snapshot N        read snapshot N in the following queries\n"
    "  \\snapshot latest   read the latest snapshot again\n"
    "  \\snapshot          show which snapshot queries read\n"
    "  \\format F          output format: table, csv, json or ndjson\n"
    "  \\history           the statements entered before\n"
    "  \\help              this list\n";

std::string string_member(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

class Shell {
 public:
  Shell(const ShellCommand& command, Console& console)
      : command_(command),
        console_(console),
        client_(command.server, command.http),
        history_(command.history_file) {}

  int run(std::istream& in) {
    interactive_ = console_.in_is_terminal;
    // Fails early, and clearly, on a wrong server or product name.
    if (!call([&] { check_product(); })) return kExitFailed;
    if (interactive_) {
      if (!command_.history_file.empty()) history_.load();
      console_.out << "duckmesh shell: product " << command_.product << " at "
                   << command_.server.url()
                   << "; statements end with ';', \\help lists the commands, \\q quits\n";
    }
    std::string line;
    for (;;) {
      if (interactive_) {
        console_.out << command_.product << (splitter_.idle() ? "=> " : "-> ");
        console_.out.flush();
      }
      if (!std::getline(in, line)) break;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (splitter_.idle() && !trim(line).empty() && trim(line).front() == '\\') {
        remember(trim(line));
        if (!meta_command(std::string(trim(line)))) return exit_code();
        continue;
      }
      for (const auto& statement : splitter_.add_line(line)) {
        remember(statement + ";");
        call([&] { run_statement(statement); });
      }
    }
    if (interactive_) console_.out << "\n";
    if (auto rest = splitter_.take_pending(); !trim(rest).empty()) {
      console_.err
          << "warning: the input ended inside a statement (no closing ';'); it was not run\n";
    }
    return exit_code();
  }

 private:
  int exit_code() const { return !interactive_ && failures_ > 0 ? kExitFailed : kExitOk; }

  void remember(std::string_view entry) {
    if (!interactive_ || command_.history_file.empty()) return;
    if (!history_.add(entry) && !history_warned_) {
      history_warned_ = true;
      console_.err << "warning: cannot write the history file " << history_.file().string() << "\n";
    }
  }

  // Runs `action`, printing a failure and counting it; true on success.
  template <class Action>
  bool call(Action&& action) {
    try {
      action();
      return true;
    } catch (...) {
      report_failure(console_);
    }
    console_.err.flush();
    ++failures_;
    return false;
  }

  HttpResponse get(const std::string& target) {
    HttpRequest request;
    request.target = target;
    auto response = send_with_retry(client_, request, command_.retry);
    if (!response.ok()) throw ServerError::from_response(response);
    return response;
  }

  std::string product_path() const { return "/v1/products/" + path_segment(command_.product); }

  void check_product() { get(product_path()); }

  void run_statement(const std::string& sql) {
    QuerySpec spec;
    spec.sql = sql;
    spec.format = format_;
    spec.snapshot_id = snapshot_;
    run_sql(client_, command_.product, spec, command_.retry, console_.out);
    if (interactive_) console_.out << "\n";
    console_.out.flush();
  }

  // Handles one backslash command; false when the shell should end.
  bool meta_command(const std::string& line) {
    const auto space = line.find_first_of(" \t");
    const std::string name = line.substr(0, space);
    const std::string arg(space == std::string::npos ? ""
                                                     : trim(std::string_view(line).substr(space)));
    if (name == "\\q" || name == "\\quit") return false;
    if (name == "\\help" || name == "\\?" || name == "\\h") {
      console_.out << kHelp;
    } else if (name == "\\tables") {
      call([&] { list_tables(); });
    } else if (name == "\\snapshot") {
      call([&] { pin_snapshot(arg); });
    } else if (name == "\\format") {
      call([&] {
        if (!arg.empty()) {
          check_query_format(arg);
          format_ = arg;
        }
        console_.out << "format: " << format_ << "\n";
      });
    } else if (name == "\\history") {
      std::size_t n = 0;
      for (const auto& entry : history_.entries()) console_.out << ++n << "  " << entry << "\n";
    } else {
      console_.err << "error: unknown command " << name << "; \\help lists the commands\n";
      ++failures_;
    }
    console_.out.flush();
    return true;
  }

  void list_tables() {
    auto body = parse_json_object(get(product_path() + "/tables"), "the table list");
    auto it = body.find("tables");
    if (it == body.end() || !it->value().is_array()) {
      throw ProtocolError("the table list from the server has no 'tables' array");
    }
    TextTable table;
    table.headers = {"name", "kind", "columns", "primary key"};
    for (const auto& t : it->value().as_array()) {
      if (!t.is_object()) continue;
      const auto& o = t.as_object();
      std::string columns, key;
      if (auto c = o.find("columns"); c != o.end() && c->value().is_array()) {
        for (const auto& col : c->value().as_array()) {
          if (!col.is_object()) continue;
          if (!columns.empty()) columns += ", ";
          columns +=
              string_member(col.as_object(), "name") + " " + string_member(col.as_object(), "type");
        }
      }
      if (auto k = o.find("primary_key"); k != o.end() && k->value().is_array()) {
        for (const auto& part : k->value().as_array()) {
          if (!part.is_string()) continue;
          if (!key.empty()) key += ", ";
          key += part.as_string();
        }
      }
      table.rows.push_back({string_member(o, "name"), string_member(o, "kind"), columns, key});
    }
    console_.out << table.render() << "(" << table.rows.size()
                 << (table.rows.size() == 1 ? " table)\n" : " tables)\n");
  }

  void pin_snapshot(const std::string& arg) {
    if (arg.empty()) {
      console_.out << "snapshot: " << (snapshot_ ? std::to_string(*snapshot_) : "latest") << "\n";
      return;
    }
    if (arg == "latest") {
      snapshot_.reset();
      console_.out << "snapshot: latest\n";
      return;
    }
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), id);
    if (ec != std::errc() || end != arg.data() + arg.size() || id < 1) {
      throw Error(ErrorCode::invalid_input,
                  "\\snapshot takes a snapshot id (a positive whole number) or 'latest', got '" +
                      arg + "'");
    }
    // Checked now, so a wrong id fails here rather than in every query.
    auto snapshot =
        parse_json_object(get(product_path() + "/snapshots/" + std::to_string(id)), "the snapshot");
    snapshot_ = id;
    console_.out << "snapshot: " << id;
    if (auto at = string_member(snapshot, "committed_at"); !at.empty())
      console_.out << " (committed " << at << ")";
    console_.out << "\n";
  }

  const ShellCommand& command_;
  Console& console_;
  HttpClient client_;
  History history_;
  StatementSplitter splitter_;
  bool interactive_ = false;
  bool history_warned_ = false;
  std::size_t failures_ = 0;
  std::string format_ = "table";
  std::optional<std::int64_t> snapshot_;
};

}  // namespace

std::vector<std::string> StatementSplitter::add_line(std::string_view line) {
  std::vector<std::string> done;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    const char next = i + 1 < line.size() ? line[i + 1] : '\0';
    switch (state_) {
      case State::code:
        if (c == '-' && next == '-') {
          i = line.size();  // a line comment: the rest of the line is dropped
          continue;
        }
        if (c == ';') {
          std::string statement(trim(pending_));
          pending_.clear();
          if (!statement.empty()) done.push_back(std::move(statement));
          continue;
        }
        if (c == '\'') state_ = State::single_quoted;
        if (c == '"') state_ = State::double_quoted;
        if (c == '/' && next == '*') {
          state_ = State::block_comment;
          pending_ += "/*";
          ++i;
          continue;
        }
        break;
      case State::single_quoted:
        if (c == '\'') state_ = State::code;  // '' re-enters at once: an escaped quote
        break;
      case State::double_quoted:
        if (c == '"') state_ = State::code;
        break;
      case State::block_comment:
        if (c == '*' && next == '/') {
          state_ = State::code;
          pending_ += "*/";
          ++i;
          continue;
        }
        break;
    }
    pending_ += c;
  }
  if (trim(pending_).empty()) {
    pending_.clear();
    return done;
  }
  // Outside strings, trailing blanks (left before a dropped comment) are noise.
  if (state_ == State::code) {
    while (!pending_.empty() && (pending_.back() == ' ' || pending_.back() == '\t'))
      pending_.pop_back();
  }
  pending_ += '\n';
  return done;
}

bool StatementSplitter::idle() const {
  return state_ == State::code && trim(pending_).empty();
}

std::string StatementSplitter::take_pending() {
  std::string out = std::move(pending_);
  pending_.clear();
  state_ = State::code;
  return out;
}

History::History(std::filesystem::path file, std::size_t keep)
    : file_(std::move(file)), keep_(keep) {}

void History::load() {
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    entries_.push_back(std::move(line));
    if (entries_.size() > keep_) entries_.pop_front();
  }
}

bool History::add(std::string_view entry) {
  std::string line(entry);
  for (auto& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  entries_.push_back(line);
  if (entries_.size() > keep_) entries_.pop_front();
  if (file_.empty()) return true;
  std::ofstream out(file_, std::ios::app);
  out << line << '\n';
  out.flush();
  return static_cast<bool>(out);
}

std::filesystem::path default_history_file() {
  if (const char* path = std::getenv("DUCKMESH_HISTORY"); path != nullptr && *path != '\0')
    return path;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".duckmesh_history";
  }
  return {};
}

int run_shell(const ShellCommand& command, Console& console, std::istream& in) {
  return Shell(command, console).run(in);
}

}  // namespace duckmesh::client
