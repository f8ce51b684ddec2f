#include "client/dead_letters_command.hpp"

#include <boost/json.hpp>

#include "client/failure.hpp"
#include "client/server_error.hpp"
#include "client/text_table.hpp"

namespace duckmesh::client {
namespace {

// A JSON value as a table cell: strings without quotes, the rest compact.
std::optional<std::string> cell(const boost::json::value& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return std::string(v.as_string());
  return boost::json::serialize(v);
}

int list(HttpClient& client, const DeadLettersCommand& command, Console& console) {
  std::string target = "/v1/products/" + path_segment(command.product) +
                       "/dead-letters?limit=" + std::to_string(command.limit);
  if (!command.table.empty()) target += "&table=" + path_segment(command.table);
  HttpRequest request;
  request.method = Method::get;
  request.target = target;
  auto response = send_with_retry(client, request, command.retry, {});
  if (!response.ok()) throw ServerError::from_response(response);
  if (command.format == "json") {
    console.out << response.body << "\n";
    return kExitOk;
  }
  const auto body = parse_json_object(response, "the dead-letter list");
  const auto* letters = body.if_contains("dead_letters");
  if (letters == nullptr || !letters->is_array()) {
    throw ProtocolError("the dead-letter list has no 'dead_letters' array");
  }
  TextTable table;
  table.headers = {"position", "table", "attempts", "dead_at", "reason", "event"};
  table.right_aligned = {true, false, true, false, false, false};
  for (const auto& d : letters->as_array()) {
    if (!d.is_object()) throw ProtocolError("a dead letter in the list is not an object");
    const auto& o = d.as_object();
    std::vector<std::optional<std::string>> row;
    for (const char* field : {"position", "table", "attempts", "dead_at", "reason", "event"}) {
      const auto* v = o.if_contains(field);
      row.push_back(v == nullptr ? std::nullopt : cell(*v));
    }
    table.rows.push_back(std::move(row));
  }
  const std::size_t n = table.rows.size();
  console.out << table.render() << "(" << n << (n == 1 ? " dead letter" : " dead letters")
              << (n == command.limit ? ", the oldest " + std::to_string(n) + " listed" : "")
              << ")\n";
  return kExitOk;
}

int replay(HttpClient& client, const DeadLettersCommand& command, Console& console) {
  boost::json::object body;
  if (!command.table.empty()) {
    body["table"] = command.table;
  } else {
    boost::json::array positions;
    for (const auto p : command.positions) positions.push_back(p);
    body["positions"] = std::move(positions);
  }
  HttpRequest request;
  request.method = Method::post;
  request.target = "/v1/products/" + path_segment(command.product) + "/dead-letters/replay";
  request.body = boost::json::serialize(body);
  request.headers = {{"Content-Type", "application/json"}};
  RetryPolicy once = command.retry;
  once.max_attempts = 1;
  auto response = send_with_retry(client, request, once, {});
  if (!response.ok()) throw ServerError::from_response(response);
  const auto result = parse_json_object(response, "the replay");
  const auto* replayed = result.if_contains("replayed");
  if (replayed == nullptr || !replayed->is_array()) {
    throw ProtocolError("the replay answer has no 'replayed' array");
  }
  console.out << "replayed " << replayed->as_array().size()
              << (replayed->as_array().size() == 1 ? " dead letter" : " dead letters") << "\n";
  for (const auto& r : replayed->as_array()) {
    const auto* o = r.if_object();
    if (o == nullptr || !o->contains("position") || !o->contains("replayed_as")) {
      throw ProtocolError("a replayed entry lacks 'position' or 'replayed_as'");
    }
    console.out << "  " << boost::json::serialize(o->at("position")) << " -> "
                << boost::json::serialize(o->at("replayed_as")) << "\n";
  }
  if (const auto* already = result.if_contains("already_replayed");
      already != nullptr && already->is_array() && !already->as_array().empty()) {
    console.out << "already replayed by someone else: " << boost::json::serialize(*already) << "\n";
  }
  if (const auto* remaining = result.if_contains("remaining");
      remaining != nullptr && remaining->is_int64() && remaining->as_int64() > 0) {
    console.out << remaining->as_int64() << " more of the table's remain; run again\n";
  }
  if (const auto* token = result.if_contains("visibility_token");
      token != nullptr && token->is_string()) {
    console.out << "visibility token: " << std::string_view(token->as_string()) << "\n";
  }
  return kExitOk;
}

}  // namespace

int run_dead_letters(const DeadLettersCommand& command, Console& console) {
  try {
    if (command.action == DeadLettersCommand::Action::replay &&
        command.table.empty() == command.positions.empty()) {
      console.err << "error: give --table T (replay all of its dead letters) or --position N "
                     "(one or more), not both\n";
      return kExitBadInput;
    }
    if (command.format != "table" && command.format != "json") {
      console.err << "error: the output format must be table or json, got '" << command.format
                  << "'\n";
      return kExitBadInput;
    }
    HttpClient client(command.server, command.http);
    return command.action == DeadLettersCommand::Action::list ? list(client, command, console)
                                                              : replay(client, command, console);
  } catch (...) {
    return report_failure(console);
  }
}

}  // namespace duckmesh::client
