#include "domain/entity_ops.hpp"

#include <boost/json.hpp>
#include <ctime>
#include <random>

#include "common/error.hpp"
#include "common/hex.hpp"
#include "query/encoders.hpp"

namespace duckmesh::domain {
namespace {

constexpr const char* kCreated = "creation_date";
constexpr const char* kUpdated = "last_updated";

std::string random_uuid() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uint64_t hi = random(), lo = random();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xffff), unsigned(hi & 0xffff), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

// Now in the column's type: DATE, TIMESTAMP (UTC wall time) or TIMESTAMPTZ.
std::optional<std::string> now_for(const schema::Column& c) {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  if (c.type.kind == schema::TypeKind::date) {
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return std::string(buf);
  }
  if (c.type.kind != schema::TypeKind::timestamp && c.type.kind != schema::TypeKind::timestamptz)
    return std::nullopt;
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us % 1'000'000));
  return std::string(buf) + frac + (c.type.kind == schema::TypeKind::timestamptz ? "Z" : "");
}

const boost::json::object& require_object(const boost::json::value& body) {
  if (!body.is_object()) {
    throw Error(ErrorCode::invalid_input, "the body must be a JSON object of field: value");
  }
  return body.as_object();
}

// An unprocessable ingest rejection, re-worded to name the field.
[[noreturn]] void rethrow_named(const Error& e) {
  const auto& d = e.details();
  auto it = d.find("rejected");
  if (e.code() == ErrorCode::unprocessable && it != d.end() && it->value().is_array() &&
      !it->value().as_array().empty()) {
    boost::json::array fields;
    std::string message;
    for (const auto& r : it->value().as_array()) {
      fields.emplace_back(boost::json::object{
          {"field", r.at("field")}, {"code", r.at("code")}, {"message", r.at("message")}});
      if (message.empty()) message = std::string(r.at("message").as_string());
    }
    auto first = it->value().as_array()[0].at("field");
    throw Error(ErrorCode::unprocessable, message,
                {{"field", first}, {"errors", std::move(fields)}});
  }
  throw e;
}

}  // namespace

EntityOps::Entity EntityOps::entity_of(const std::string& name, bool keyed_only) const {
  Entity e{products_.require_table(product_, name), {}};
  e.schema = schema::TableSchema::from_json_text(e.info.schema_json);
  if (keyed_only && (e.info.kind != catalog::TableKind::keyed || e.info.primary_key.size() != 1)) {
    throw Error(ErrorCode::method_not_allowed,
                "'" + name + "' is an append-only table: records have no id to address",
                {{"entity", name}, {"allow", "GET, POST"}});
  }
  return e;
}

std::vector<boost::json::object> EntityOps::select(const std::string& sql,
                                                   boost::json::array params) {
  query::QueryRequest request;
  request.sql = sql;
  request.params = std::move(params);
  request.format = query::Format::ndjson;
  request.max_rows = 100'000;
  query::StringSink sink;
  queries_.run(product_, request, sink);
  std::vector<boost::json::object> rows;
  std::size_t start = 0;
  while (start < sink.data.size()) {
    auto end = sink.data.find('\n', start);
    if (end == std::string::npos) end = sink.data.size();
    if (end > start) {
      auto v = boost::json::parse(std::string_view(sink.data).substr(start, end - start));
      if (v.is_object()) rows.push_back(std::move(v.as_object()));
    }
    start = end + 1;
  }
  return rows;
}

std::optional<boost::json::object> EntityOps::find(const Entity& e, const std::string& id) {
  const auto& key = e.info.primary_key[0];
  const auto* column = e.schema.find(key);
  auto rows =
      select("SELECT * FROM " + schema::quote_identifier(e.info.name) + " WHERE " +
                 schema::quote_identifier(key) + " = CAST($1 AS " + column->type.sql() + ")",
             boost::json::array{boost::json::value(id)});
  if (rows.empty()) return std::nullopt;
  return std::move(rows[0]);
}

void EntityOps::write(const Entity& e, const boost::json::object& record) {
  auto text = boost::json::serialize(boost::json::array{record});
  ingest::IngestRequest request;
  request.product = product_;
  request.table = e.info.name;
  request.body = text;
  ingest::IngestOutcome outcome;
  try {
    outcome = ingest_.ingest(request);
  } catch (const Error& err) {
    rethrow_named(err);
  }
  if (!ingest_.wait_visible(outcome.token, visibility_timeout_)) {
    throw Error(ErrorCode::timeout,
                "the write was accepted but did not become visible in time; its token tells "
                "when it is",
                {{"visibility_token", outcome.token.encode()}});
  }
}

boost::json::object EntityOps::create(const std::string& entity, const boost::json::value& body) {
  auto e = entity_of(entity, false);
  auto record = require_object(body);
  if (record.contains("_op")) {
    throw Error(ErrorCode::unprocessable, "field '_op' is not part of a record",
                {{"field", "_op"}});
  }
  for (const auto& c : e.schema.columns) {
    bool missing = !record.contains(c.name) || record.at(c.name).is_null();
    bool is_key = e.info.kind == catalog::TableKind::keyed && e.info.primary_key.size() == 1 &&
                  e.info.primary_key[0] == c.name;
    if (missing && is_key && c.type.kind == schema::TypeKind::uuid) {
      record[c.name] = random_uuid();
    } else if (missing && (c.name == kCreated || c.name == kUpdated)) {
      if (auto now = now_for(c)) record[c.name] = *now;
    }
  }
  std::optional<std::string> id;
  if (e.info.kind == catalog::TableKind::keyed && e.info.primary_key.size() == 1) {
    const auto& key = e.info.primary_key[0];
    if (record.contains(key) && record.at(key).is_string()) {
      id = std::string(record.at(key).as_string());
    } else if (record.contains(key) && record.at(key).is_number()) {
      id = boost::json::serialize(record.at(key));
    }
    if (id && find(e, *id)) {
      throw Error(ErrorCode::conflict, entity + " '" + *id + "' already exists; PUT or PATCH it",
                  {{"entity", entity}, {"id", *id}, {"field", key}});
    }
  }
  write(e, record);
  if (id) {
    if (auto stored = find(e, *id)) return *stored;
  }
  return record;
}

boost::json::object EntityOps::get(const std::string& entity, const std::string& id) {
  auto e = entity_of(entity, true);
  auto found = find(e, id);
  if (!found) {
    throw Error(ErrorCode::not_found, entity + " '" + id + "' does not exist",
                {{"entity", entity}, {"id", id}});
  }
  return *found;
}

boost::json::object EntityOps::update(const std::string& entity, const std::string& id,
                                      const boost::json::value& body, bool merge) {
  auto e = entity_of(entity, true);
  const auto& changes = require_object(body);
  const auto& key = e.info.primary_key[0];
  auto existing = find(e, id);
  if (!existing) {
    throw Error(ErrorCode::not_found, entity + " '" + id + "' does not exist",
                {{"entity", entity}, {"id", id}});
  }
  if (auto it = changes.find(key); it != changes.end() && !it->value().is_null()) {
    std::string given = it->value().is_string() ? std::string(it->value().as_string())
                                                : boost::json::serialize(it->value());
    if (given != id) {
      throw Error(ErrorCode::unprocessable,
                  "field '" + key + "' cannot change (the record is " + id + ")", {{"field", key}});
    }
  }
  if (changes.contains("_op")) {
    throw Error(ErrorCode::unprocessable, "field '_op' is not part of a record",
                {{"field", "_op"}});
  }
  boost::json::object record;
  if (merge) {
    record = *existing;
    for (const auto& [k, v] : changes) record[k] = v;
  } else {
    record = changes;
  }
  record[key] = (*existing)[key];
  for (const auto& c : e.schema.columns) {
    if (c.name == kCreated && existing->contains(kCreated))
      record[kCreated] = existing->at(kCreated);
    if (c.name == kUpdated) {
      if (auto now = now_for(c)) record[kUpdated] = *now;
    }
  }
  write(e, record);
  auto stored = find(e, id);
  if (!stored) throw Error(ErrorCode::internal, "the updated record is not visible");
  return *stored;
}

boost::json::object EntityOps::remove(const std::string& entity, const std::string& id) {
  auto e = entity_of(entity, true);
  const auto& key = e.info.primary_key[0];
  auto existing = find(e, id);
  if (!existing) {
    throw Error(ErrorCode::not_found, entity + " '" + id + "' does not exist",
                {{"entity", entity}, {"id", id}});
  }
  write(e, {{key, existing->at(key)}, {"_op", "delete"}});
  return {{"deleted", id}, {"entity", entity}};
}

boost::json::object EntityOps::list(const std::string& entity, const ListQuery& q) {
  auto e = entity_of(entity, false);
  auto column_of = [&](const std::string& name, const char* what) -> const schema::Column& {
    const auto* c = e.schema.find(name);
    if (!c) {
      throw Error(ErrorCode::invalid_input,
                  std::string(what) + " names '" + name + "', which is not a field of " + entity,
                  {{"field", name}});
    }
    return *c;
  };
  if (q.limit < 1 || q.limit > 1000) {
    throw Error(ErrorCode::invalid_input, "parameter 'limit' must be from 1 to 1000",
                {{"field", "limit"}});
  }
  if (q.offset < 0) {
    throw Error(ErrorCode::invalid_input, "parameter 'offset' must be 0 or more",
                {{"field", "offset"}});
  }
  boost::json::array params;
  std::string where;
  auto bind = [&](const schema::Column& c, const std::string& op, boost::json::value v) {
    params.emplace_back(std::move(v));
    where += (where.empty() ? " WHERE " : " AND ") + schema::quote_identifier(c.name) + " " + op +
             " CAST($" + std::to_string(params.size()) + " AS " + c.type.sql() + ")";
  };
  for (const auto& [name, value] : q.filters)
    bind(column_of(name, "a filter"), "=", boost::json::value(value));

  // Keyset pagination on the primary key when no other order is asked for;
  // otherwise the cursor carries the offset.
  bool keyset = q.sort.empty() && e.info.primary_key.size() == 1;
  std::string order;
  if (keyset) {
    order = " ORDER BY " + schema::quote_identifier(e.info.primary_key[0]);
  } else if (!q.sort.empty()) {
    std::size_t start = 0;
    while (start <= q.sort.size()) {
      auto end = q.sort.find(',', start);
      if (end == std::string::npos) end = q.sort.size();
      std::string item = q.sort.substr(start, end - start);
      bool desc = !item.empty() && item[0] == '-';
      if (desc) item = item.substr(1);
      const auto& c = column_of(item, "parameter 'sort'");
      order += (order.empty() ? " ORDER BY " : ", ") + schema::quote_identifier(c.name) +
               (desc ? " DESC" : " ASC");
      start = end + 1;
    }
  }
  std::int64_t offset = q.offset;
  if (!q.cursor.empty()) {
    // A cursor is the hex of a JSON object; anything else is not one of ours.
    const auto json = from_hex(q.cursor);
    boost::system::error_code ec;
    boost::json::value c;
    if (json) c = boost::json::parse(*json, ec);
    if (!json || ec || !c.is_object()) {
      throw Error(ErrorCode::invalid_input, "parameter 'cursor' is not a cursor this service made",
                  {{"field", "cursor"}});
    }
    if (keyset && c.as_object().contains("after")) {
      bind(*e.schema.find(e.info.primary_key[0]), ">", c.as_object().at("after"));
      offset = 0;
    } else if (c.as_object().contains("offset") && c.as_object().at("offset").is_int64()) {
      offset = c.as_object().at("offset").as_int64();
    } else {
      throw Error(ErrorCode::invalid_input, "parameter 'cursor' does not fit this listing",
                  {{"field", "cursor"}});
    }
  }
  auto rows =
      select("SELECT * FROM " + schema::quote_identifier(e.info.name) + where + order + " LIMIT " +
                 std::to_string(q.limit + 1) + " OFFSET " + std::to_string(offset),
             std::move(params));
  bool more = static_cast<std::int64_t>(rows.size()) > q.limit;
  if (more) rows.resize(static_cast<std::size_t>(q.limit));
  boost::json::array items;
  for (auto& r : rows) items.emplace_back(std::move(r));
  boost::json::value next = nullptr;
  if (more) {
    boost::json::object c;
    if (keyset) {
      c["after"] = items.back().as_object().at(e.info.primary_key[0]);
    } else {
      c["offset"] = offset + q.limit;
    }
    next = to_hex(boost::json::serialize(c));
  }
  return {{"items", std::move(items)},
          {"count", rows.size()},
          {"limit", q.limit},
          {"offset", offset},
          {"next_cursor", next}};
}

}  // namespace duckmesh::domain
