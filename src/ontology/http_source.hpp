// HttpSchemaSource: an ontology server over HTTP.
//
//   GET {url}/schemas            ids: ["projects", ...] or {"schemas": [...]}
//                                (items strings, or objects with "id"/"name")
//   GET {url}/schemas/{id}       one definition (404: not_found)
//   GET {url}/health             2xx when the server is up
//
// Every request is bounded by `timeout` (connect, and each read/write step).
// A fresh connection per request keeps the source safe from many threads.
// Transport failures, timeouts, 5xx and malformed definitions are
// unavailable; a 404 is not_found.
#pragma once

#include <chrono>

#include "ontology/schema_source.hpp"

namespace duckmesh::ontology {

class HttpSchemaSource : public SchemaSource {
 public:
  // invalid_input when `url` is not an http:// URL.
  HttpSchemaSource(const std::string& url, std::chrono::milliseconds timeout);
  ~HttpSchemaSource() override;

  std::vector<std::string> list_schemas() override;
  OntologySchema fetch_schema(const std::string& id) override;
  std::string describe() const override { return url_; }
  // Throws unavailable unless GET /health answers 2xx.
  void check_health();

 private:
  std::string get(const std::string& target, const std::string& what);

  std::string url_;
  std::chrono::milliseconds timeout_;
  struct Address;
  std::unique_ptr<Address> address_;
};

}  // namespace duckmesh::ontology
