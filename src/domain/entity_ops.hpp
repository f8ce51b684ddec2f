// EntityOps: records of one product's tables as a REST resource (/ops/{entity}).
//
// Writes go through ingest (validated by the table's schema: a bad value is
// unprocessable, naming the field) and return only once the snapshot that
// holds them is the latest (read-your-writes): the answer reads the record
// back from that snapshot. Reads are SQL over the latest snapshot, built from
// checked column names and bound parameters; no user value is ever spliced
// into the statement.
//
// Server-set fields: on create, a missing UUID primary key gets a random
// (version 4) UUID, and columns named creation_date and last_updated get the
// current time; on update, last_updated is set and creation_date is kept.
//
// Thread safety: stateless over the services; safe from many threads.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "ingest/service.hpp"
#include "product/product_service.hpp"
#include "query/query_service.hpp"

namespace duckmesh::domain {

struct ListQuery {
  std::multimap<std::string, std::string> filters;  // column -> value (equality)
  std::string sort;                                 // "col,-other"; empty: primary key
  std::int64_t limit = 50;
  std::int64_t offset = 0;
  std::string cursor;  // from a previous page's next_cursor
};

class EntityOps {
 public:
  EntityOps(ingest::IngestService& ingest, query::QueryService& queries,
            product::ProductService& products, std::string product,
            std::chrono::milliseconds visibility_timeout = std::chrono::seconds(10))
      : ingest_(ingest),
        queries_(queries),
        products_(products),
        product_(std::move(product)),
        visibility_timeout_(visibility_timeout) {}

  // The stored record with server-set fields. conflict when the key exists.
  boost::json::object create(const std::string& entity, const boost::json::value& body);
  // {"items", "count", "limit", "offset", "next_cursor"}.
  boost::json::object list(const std::string& entity, const ListQuery& query);
  // not_found when absent. Keyed tables only (single-column keys).
  boost::json::object get(const std::string& entity, const std::string& id);
  // Replaces (PUT) or merges into (PATCH) the record; not_found when absent.
  boost::json::object update(const std::string& entity, const std::string& id,
                             const boost::json::value& body, bool merge);
  boost::json::object remove(const std::string& entity, const std::string& id);

 private:
  struct Entity {
    catalog::TableInfo info;
    schema::TableSchema schema;
  };
  Entity entity_of(const std::string& name, bool keyed_only) const;
  std::optional<boost::json::object> find(const Entity& e, const std::string& id);
  std::vector<boost::json::object> select(const std::string& sql, boost::json::array params);
  void write(const Entity& e, const boost::json::object& record);

  ingest::IngestService& ingest_;
  query::QueryService& queries_;
  product::ProductService& products_;
  std::string product_;
  std::chrono::milliseconds visibility_timeout_;
};

}  // namespace duckmesh::domain
