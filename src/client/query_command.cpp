#include "client/query_command.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <iterator>

#include "client/failure.hpp"
#include "client/server_error.hpp"
#include "client/text_table.hpp"
#include "common/error.hpp"

namespace duckmesh::client {

void check_query_format(const std::string& format) {
  if (format != "table" && format != "csv" && format != "json" && format != "ndjson") {
    throw Error(ErrorCode::invalid_input,
                "the output format must be table, csv, json or ndjson, got '" + format + "'",
                {{"field", "format"}});
  }
}

void run_sql(HttpClient& client, const std::string& product, const QuerySpec& spec,
             const RetryPolicy& retry, std::ostream& out, const RetryObserver& observer) {
  check_query_format(spec.format);
  const bool table = spec.format == "table";
  // A statement typed as in a SQL console ends with ';'; the API takes one
  // statement without it.
  std::string sql = spec.sql;
  while (!sql.empty() &&
         (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())))) {
    sql.pop_back();
  }
  boost::json::object body{{"sql", sql}, {"format", table ? "json" : spec.format}};
  if (spec.snapshot_id) body["snapshot_id"] = *spec.snapshot_id;
  if (spec.as_of) body["as_of"] = *spec.as_of;
  if (spec.max_rows) body["max_rows"] = *spec.max_rows;

  HttpRequest request;
  request.method = Method::post;
  request.target = "/v1/products/" + path_segment(product) + "/query";
  request.body = boost::json::serialize(body);
  request.headers = {{"Content-Type", "application/json"}};

  if (table) {
    auto response = send_with_retry(client, request, retry, observer);
    if (!response.ok()) throw ServerError::from_response(response);
    auto result = parse_json_object(response, "the query");
    // The snapshot is in the body; the header is the fallback for a server
    // whose body does not carry it.
    if (!result.contains("snapshot_id")) {
      const std::string header = response.header("x-snapshot-id");
      std::int64_t id = 0;
      auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), id);
      if (ec == std::errc() && end == header.data() + header.size()) result["snapshot_id"] = id;
    }
    out << render_result(result);
    out.flush();
    return;
  }

  char last = '\n';
  BodySink sink = [&](std::string_view bytes) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    last = bytes.back();
  };
  auto response = send_with_retry(client, request, retry, observer, &sink);
  if (!response.ok()) throw ServerError::from_response(response);
  // The JSON format ends without a line break; end the output with one so a
  // shell prompt does not follow on the same line.
  if (last != '\n') out << '\n';
  out.flush();
}

int run_query(const QueryCommand& command, Console& console, std::istream& standard_input) {
  try {
    QuerySpec spec = command.spec;
    if (spec.sql == "-") {
      spec.sql.assign(std::istreambuf_iterator<char>(standard_input),
                      std::istreambuf_iterator<char>());
    }
    if (spec.sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
      console.err << "error: no SQL statement given\n";
      return kExitBadInput;
    }
    check_query_format(spec.format);
    HttpClient client(command.server, command.http);
    run_sql(client, command.product, spec, command.retry, console.out,
            [&](const std::string& why, std::chrono::milliseconds delay) {
              console.err << "retrying the query in " << delay.count() << " ms: " << why << "\n";
            });
    return kExitOk;
  } catch (...) {
    return report_failure(console);
  }
}

}  // namespace duckmesh::client
