#include "ontology/http_source.hpp"

#include <boost/json.hpp>

#include "client/http_client.hpp"
#include "common/error.hpp"

namespace duckmesh::ontology {

struct HttpSchemaSource::Address {
  client::ServerAddress server;
};

HttpSchemaSource::HttpSchemaSource(const std::string& url, std::chrono::milliseconds timeout)
    : url_(url), timeout_(timeout), address_(std::make_unique<Address>()) {
  address_->server = client::ServerAddress::parse(url);
}

HttpSchemaSource::~HttpSchemaSource() = default;

std::string HttpSchemaSource::get(const std::string& target, const std::string& what) {
  client::HttpClientOptions options;
  options.connect_timeout = timeout_;
  options.read_timeout = timeout_;
  client::HttpClient http(address_->server, options);
  client::HttpResponse response;
  try {
    client::HttpRequest request;
    request.method = client::Method::get;
    request.target = target;
    response = http.send(request);
  } catch (const client::TransportError& e) {
    throw Error(ErrorCode::unavailable,
                "ontology server " + url_ + " did not answer " + what + ": " + e.what(),
                {{"url", url_}, {"target", target}});
  }
  if (response.status == 404) {
    throw Error(ErrorCode::not_found, "ontology server " + url_ + " has no " + what,
                {{"url", url_}, {"target", target}});
  }
  if (!response.ok()) {
    throw Error(
        ErrorCode::unavailable,
        "ontology server " + url_ + " answered " + std::to_string(response.status) + " to " + what,
        {{"url", url_}, {"target", target}, {"status", response.status}});
  }
  return std::move(response.body);
}

std::vector<std::string> HttpSchemaSource::list_schemas() {
  auto body = get("/schemas", "the schema list");
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  const boost::json::array* items = nullptr;
  if (!ec && v.is_array()) items = &v.as_array();
  if (!ec && v.is_object() && v.as_object().contains("schemas") &&
      v.as_object().at("schemas").is_array())
    items = &v.as_object().at("schemas").as_array();
  std::vector<std::string> ids;
  bool ok = items != nullptr;
  if (items) {
    for (const auto& item : *items) {
      if (item.is_string()) {
        ids.emplace_back(item.as_string());
      } else if (item.is_object() && item.as_object().contains("id") &&
                 item.as_object().at("id").is_string()) {
        ids.emplace_back(item.as_object().at("id").as_string());
      } else if (item.is_object() && item.as_object().contains("name") &&
                 item.as_object().at("name").is_string()) {
        ids.emplace_back(item.as_object().at("name").as_string());
      } else {
        ok = false;
      }
    }
  }
  if (!ok) {
    throw Error(ErrorCode::unavailable,
                "ontology server " + url_ + " served a schema list that is not a list of ids",
                {{"url", url_}});
  }
  return ids;
}

OntologySchema HttpSchemaSource::fetch_schema(const std::string& id) {
  auto body = get("/schemas/" + client::path_segment(id), "schema '" + id + "'");
  try {
    return OntologySchema::parse_text(body);
  } catch (const Error& e) {
    // The server is up but serves something unusable: as bad as no answer,
    // so the caller falls back instead of building tables from it.
    throw Error(ErrorCode::unavailable,
                "ontology server " + url_ + " served an invalid schema '" + id +
                    "': " + std::string(e.message()),
                {{"url", url_}, {"schema", id}});
  }
}

void HttpSchemaSource::check_health() {
  get("/health", "the health check");
}

}  // namespace duckmesh::ontology
