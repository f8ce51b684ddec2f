#include "client/ingest_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "client/batch_key.hpp"
#include "client/failure.hpp"
#include "client/progress_line.hpp"
#include "client/server_error.hpp"
#include "common/error.hpp"

namespace duckmesh::client {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string format_of(const IngestCommand& command) {
  if (!command.format.empty()) {
    const std::string f = lower(command.format);
    if (f == "ndjson" || f == "jsonl") return "ndjson";
    if (f == "csv") return "csv";
    throw Error(ErrorCode::invalid_input,
                "--format must be ndjson or csv, got '" + command.format + "'",
                {{"field", "format"}});
  }
  if (command.input != "-" &&
      lower(std::filesystem::path(command.input).extension().string()) == ".csv") {
    return "csv";
  }
  return "ndjson";
}

std::size_t size_member(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return 0;
  if (it->value().is_int64() && it->value().as_int64() > 0) {
    return static_cast<std::size_t>(it->value().as_int64());
  }
  if (it->value().is_uint64()) return static_cast<std::size_t>(it->value().as_uint64());
  return 0;
}

std::string string_member(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", seconds);
  return buf;
}

// The server's messages start with "line N: " counting lines of the request
// body; next to the line in the input that only confuses, so it is dropped
// when it is the event's own line in the body (index + 1).
std::string without_body_line(const std::string& message, std::size_t index) {
  const std::string prefix = "line " + std::to_string(index + 1) + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

// One ingest run: the input, the connection, and the running totals.
class IngestRun {
 public:
  IngestRun(const IngestCommand& command, Console& console, std::istream& standard_input)
      : command_(command),
        console_(console),
        standard_input_(standard_input),
        client_(command.server, command.http) {}

  int run() {
    const std::string format = format_of(command_);
    std::istream* in = &standard_input_;
    std::ifstream file;
    std::optional<std::uintmax_t> total_bytes;
    if (command_.input == "-") {
      struct stat st {};
      if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
        total_bytes = static_cast<std::uintmax_t>(st.st_size);
      }
      if (console_.in_is_terminal) {
        console_.err << "reading " << format << " events from the terminal; end with Ctrl-D\n";
      }
    } else {
      // The id is taken before reading: an input edited during the run
      // keeps the id of the version the run started with.
      input_id_ = file_input_id(std::filesystem::path(command_.input));
      file.open(command_.input, std::ios::binary);
      if (!file) {
        throw Error(ErrorCode::invalid_input, "cannot open '" + command_.input + "' for reading",
                    {{"path", command_.input}});
      }
      std::error_code ec;
      auto size = std::filesystem::file_size(command_.input, ec);
      if (!ec) total_bytes = size;
      in = &file;
    }

    const boost::json::array columns = table_columns();
    std::unique_ptr<BatchSource> source;
    if (format == "csv") {
      source = std::make_unique<CsvBatchSource>(*in, command_.limits, columns);
    } else {
      source = std::make_unique<NdjsonBatchSource>(*in, command_.limits);
    }

    progress_.emplace(console_, total_bytes);
    started_ = Clock::now();
    Batch batch;
    for (;;) {
      try {
        if (!source->next(batch)) break;
      } catch (const Error& e) {
        progress_->message(std::string("error: ") + e.what());
        progress_->message(sent_so_far(false));
        return kExitBadInput;
      }
      try {
        if (int code = send(batch); code != kExitOk) return code;
      } catch (const TransportError& e) {
        progress_->message(std::string("error: ") + e.what());
        progress_->message(sent_so_far(true));
        return kExitFailed;
      }
      progress_->update(events_sent_, batch.bytes_read);
    }
    progress_->finish(batches_, retries_);

    std::optional<std::int64_t> snapshot;
    bool visible = true;
    if (command_.wait && !last_token_.empty()) {
      if (!last_accepted_token_.empty() && last_accepted_token_ != last_token_) {
        visible = wait_visible(last_accepted_token_).has_value();
      }
      if (visible) {
        snapshot = wait_visible(last_token_);
        visible = snapshot.has_value();
      }
    }
    print_summary(snapshot, visible);
    if (!visible) return kExitFailed;
    return rejected_ > 0 ? kExitRejected : kExitOk;
  }

 private:
  std::string table_path() const {
    return "/v1/products/" + path_segment(command_.product) + "/tables/" +
           path_segment(command_.table);
  }

  RetryObserver observer(const std::string& what) {
    return [this, what](const std::string& why, std::chrono::milliseconds delay) {
      ++retries_;
      progress_or_err("retrying " + what + " in " + seconds_text(delay.count() / 1000.0) +
                      " s: " + why);
    };
  }

  void progress_or_err(const std::string& text) {
    if (progress_) {
      progress_->message(text);
    } else {
      console_.err << text << '\n';
    }
  }

  // The table's columns, which also proves the product and table exist
  // before any event is read. Throws ServerError when the server refuses.
  boost::json::array table_columns() {
    HttpRequest request;
    request.target = table_path();
    auto response =
        send_with_retry(client_, request, command_.retry, observer("reading the table"));
    if (!response.ok()) throw ServerError::from_response(response);
    auto table = parse_json_object(response, "the table description");
    auto it = table.find("columns");
    if (it == table.end() || !it->value().is_array()) {
      throw ProtocolError("the table description from the server has no 'columns' array");
    }
    return it->value().as_array();
  }

  // Sends one batch; returns kExitOk to go on, or the exit code to stop with.
  int send(const Batch& batch) {
    const std::string id = input_id_.empty() ? content_input_id(batch.body) : input_id_;
    HttpRequest request;
    request.method = Method::post;
    request.target = table_path() + "/events" + (command_.skip_invalid ? "?atomic=false" : "");
    request.body = batch.body;
    request.gzip_body = command_.gzip;
    request.headers = {{"Content-Type", "application/x-ndjson"},
                       {"Idempotency-Key", batch_key(id, batch.first_line())}};
    auto response =
        send_with_retry(client_, request, command_.retry,
                        observer("the batch from line " + std::to_string(batch.first_line())));
    ++batches_;
    events_sent_ += batch.size();
    if (response.ok()) {
      last_sent_line_ = batch.lines.back();
      auto body = parse_json_object(response, "an ingest request");
      const std::size_t accepted = size_member(body, "accepted");
      const std::size_t duplicates = size_member(body, "duplicates");
      // A replayed answer is the server's memory of an earlier identical
      // request: everything in it was taken then, not now.
      if (body.contains("replayed") && body.at("replayed").is_bool() &&
          body.at("replayed").as_bool()) {
        duplicates_ += accepted + duplicates;
      } else {
        accepted_ += accepted;
        duplicates_ += duplicates;
      }
      if (auto it = body.find("rejected"); it != body.end() && it->value().is_array()) {
        report_rejections(it->value().as_array(), batch);
        rejected_ += it->value().as_array().size();
      }
      const std::string token = string_member(body, "visibility_token");
      if (!token.empty()) {
        last_token_ = token;
        if (accepted > 0) last_accepted_token_ = token;
      }
      return kExitOk;
    }

    auto error = ServerError::from_response(response);
    const boost::json::array* rejected = nullptr;
    if (auto it = error.details().find("rejected");
        it != error.details().end() && it->value().is_array()) {
      rejected = &it->value().as_array();
    }
    if (response.status == 422 && command_.skip_invalid && rejected != nullptr) {
      // With atomic=false the server refuses a batch only when every event
      // in it is invalid; that is a batch of rejections, not a failure.
      report_rejections(*rejected, batch);
      rejected_ += rejected->size();
      last_sent_line_ = batch.lines.back();
      return kExitOk;
    }
    events_sent_ -= batch.size();
    std::string text = describe(error, {"rejected"});
    if (rejected != nullptr) text += rejection_lines(*rejected, batch);
    if (response.status == 413) {
      text += "hint: the batch is larger than the server takes; lower --batch-size\n";
    }
    progress_->message(text);
    // A refusal for the content (4xx) needs the input changed; a failure of
    // the server (5xx after the retries) does not.
    progress_->message(sent_so_far(response.status >= 500));
    return kExitFailed;
  }

  static std::string rejection_lines(const boost::json::array& rejected, const Batch& batch) {
    std::string out;
    for (const auto& r : rejected) {
      if (!r.is_object()) continue;
      const auto& o = r.as_object();
      std::size_t index = size_member(o, "index");
      std::size_t line = batch.line_of(index);
      std::string field = string_member(o, "field");
      out +=
          "  line " + (line > 0 ? std::to_string(line) : "? (event " + std::to_string(index) + ")");
      if (!field.empty()) out += ", field '" + field + "'";
      out += ": " + string_member(o, "code") + ": " +
             without_body_line(string_member(o, "message"), index) + "\n";
    }
    return out;
  }

  void report_rejections(const boost::json::array& rejected, const Batch& batch) {
    if (rejected.empty()) return;
    progress_->message("rejected " + std::to_string(rejected.size()) +
                       (rejected.size() == 1 ? " event" : " events") + " of the batch from line " +
                       std::to_string(batch.first_line()) + ":\n" +
                       rejection_lines(rejected, batch));
  }

  // What the server took before the run stopped, and how to go on.
  // `resumable`: the input itself is fine (the server or the network
  // failed), so the same command can simply run again; otherwise the input
  // must change, which makes it a new input whose events all count as new.
  std::string sent_so_far(bool resumable) const {
    std::string out = "stopped: the server took " + std::to_string(accepted_) + " new events and " +
                      std::to_string(duplicates_) + " duplicates";
    if (last_sent_line_ > 0) out += " from the lines up to " + std::to_string(last_sent_line_);
    if (resumable) return out + "; running the same command again resumes safely";
    if (last_sent_line_ == 0) return out;
    return out +
           ". An edited file is a new input whose events all count as new: send the lines after " +
           std::to_string(last_sent_line_) + " by themselves rather than the whole file again";
  }

  // Polls the token until it is visible; the snapshot id, or nullopt after
  // printing why not.
  std::optional<std::int64_t> wait_visible(const std::string& token) {
    const auto deadline = Clock::now() + command_.wait_timeout;
    auto interval = std::chrono::milliseconds(50);
    HttpRequest request;
    request.target =
        "/v1/products/" + path_segment(command_.product) + "/visibility/" + path_segment(token);
    for (;;) {
      auto response =
          send_with_retry(client_, request, command_.retry, observer("the visibility check"));
      if (!response.ok()) {
        console_.err << describe(ServerError::from_response(response));
        return std::nullopt;
      }
      auto body = parse_json_object(response, "a visibility check");
      auto visible = body.find("visible");
      if (visible != body.end() && visible->value().is_bool() && visible->value().as_bool()) {
        auto snapshot = body.find("snapshot_id");
        if (snapshot != body.end() && snapshot->value().is_int64())
          return snapshot->value().as_int64();
        return std::int64_t{0};
      }
      if (Clock::now() + interval > deadline) {
        console_.err << "error: the events were accepted but are not visible to queries after "
                     << command_.wait_timeout.count() << " s; visibility token " << token << "\n";
        return std::nullopt;
      }
      std::this_thread::sleep_for(interval);
      interval = std::min(interval * 2, std::chrono::milliseconds(1000));
    }
  }

  // `visible` false: the wait for visibility failed or timed out.
  void print_summary(std::optional<std::int64_t> snapshot, bool visible) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    const std::size_t events = accepted_ + duplicates_ + rejected_;
    auto& out = console_.out;
    out << "accepted:   " << accepted_ << "\n"
        << "duplicates: " << duplicates_ << "\n"
        << "rejected:   " << rejected_ << "\n"
        << "seconds:    " << seconds_text(seconds) << "\n"
        << "events/s:   "
        << (seconds > 0 ? std::to_string(std::llround(static_cast<double>(events) / seconds)) : "0")
        << "\n";
    if (snapshot) {
      out << "snapshot:   " << (*snapshot > 0 ? std::to_string(*snapshot) : "none") << "\n";
    } else if (!last_token_.empty()) {
      out << "snapshot:   " << (visible ? "not waited for" : "not visible yet") << "\n"
          << "token:      " << last_token_ << "\n";
    } else {
      out << "snapshot:   none\n";
    }
    out.flush();
  }

  const IngestCommand& command_;
  Console& console_;
  std::istream& standard_input_;
  HttpClient client_;
  std::optional<ProgressLine> progress_;
  std::string input_id_;  // empty for standard input (each batch hashes its content)
  Clock::time_point started_ = Clock::now();
  std::size_t batches_ = 0;
  std::size_t retries_ = 0;
  std::size_t events_sent_ = 0;
  std::size_t accepted_ = 0;
  std::size_t duplicates_ = 0;
  std::size_t rejected_ = 0;
  std::size_t last_sent_line_ = 0;  // input line of the last event the server answered for
  std::string last_token_;
  std::string last_accepted_token_;
};

}  // namespace

int run_ingest(const IngestCommand& command, Console& console, std::istream& standard_input) {
  try {
    return IngestRun(command, console, standard_input).run();
  } catch (...) {
    return report_failure(console);
  }
}

}  // namespace duckmesh::client
