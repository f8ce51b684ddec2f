#include "catalog/migrations.hpp"

#include <array>

namespace duckmesh::catalog {
namespace {

// Ids of products, tables and data files come from catalog_sequences rather
// than from MAX(id) + 1 so that an id is never handed out twice, even after
// garbage collection deletes the rows holding the highest ids: a compactor
// that planned to remove file 42 must never retire a different file 42.
//
// Snapshot ids are per product and derived from the product's newest
// snapshot, which garbage collection always keeps.
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE catalog_sequences (
  name TEXT NOT NULL PRIMARY KEY,
  next_value BIGINT NOT NULL
);
INSERT INTO catalog_sequences (name, next_value) VALUES ('products', 1);
INSERT INTO catalog_sequences (name, next_value) VALUES ('tables', 1);
INSERT INTO catalog_sequences (name, next_value) VALUES ('data_files', 1);

CREATE TABLE products (
  id BIGINT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE snapshots (
  product_id BIGINT NOT NULL REFERENCES products (id),
  id BIGINT NOT NULL,
  parent_id BIGINT,
  committed_at BIGINT NOT NULL,
  operation TEXT NOT NULL CHECK (operation IN ('ingest', 'compact', 'schema', 'drop')),
  summary_json TEXT NOT NULL,
  watermark BIGINT NOT NULL,
  PRIMARY KEY (product_id, id)
);
CREATE INDEX snapshots_by_commit_time ON snapshots (product_id, committed_at);

-- A table name is unique among a product's live tables only: a dropped table
-- keeps its row (time travel reads it) and the name may be created again.
CREATE TABLE tables (
  id BIGINT NOT NULL PRIMARY KEY,
  product_id BIGINT NOT NULL REFERENCES products (id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('append', 'keyed')),
  primary_key_json TEXT NOT NULL,
  partition_column TEXT NOT NULL,
  partition_transform TEXT NOT NULL,
  schema_version BIGINT NOT NULL,
  options_json TEXT NOT NULL,
  created_snapshot BIGINT NOT NULL,
  dropped_snapshot BIGINT,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tables_live_name ON tables (product_id, name) WHERE dropped_snapshot IS NULL;
CREATE INDEX tables_by_product ON tables (product_id, name);

-- Options are versioned with the schema so that time travel sees both as they
-- were; tables.options_json repeats the current version's for direct reads.
CREATE TABLE schema_versions (
  table_id BIGINT NOT NULL REFERENCES tables (id),
  version BIGINT NOT NULL,
  schema_json TEXT NOT NULL,
  options_json TEXT NOT NULL,
  snapshot_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (table_id, version)
);

-- table_name repeats tables.name so that live_files() filters by name with
-- one index range; a name reused after a drop is unambiguous at any snapshot
-- because a drop retires every file of the dropped table.
CREATE TABLE data_files (
  id BIGINT NOT NULL PRIMARY KEY,
  product_id BIGINT NOT NULL REFERENCES products (id),
  table_id BIGINT NOT NULL REFERENCES tables (id),
  table_name TEXT NOT NULL,
  path TEXT NOT NULL,
  partition_json TEXT NOT NULL,
  row_count BIGINT NOT NULL,
  byte_size BIGINT NOT NULL,
  stats_json TEXT NOT NULL,
  added_snapshot BIGINT NOT NULL,
  removed_snapshot BIGINT,
  CHECK (removed_snapshot IS NULL OR removed_snapshot >= added_snapshot)
);
CREATE INDEX data_files_by_table ON data_files (product_id, table_name, added_snapshot);
CREATE INDEX data_files_by_snapshot ON data_files (product_id, added_snapshot);
CREATE INDEX data_files_live_by_table ON data_files (table_id) WHERE removed_snapshot IS NULL;

CREATE TABLE idempotency (
  product_id BIGINT NOT NULL REFERENCES products (id),
  table_name TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  bus_position BIGINT NOT NULL,
  snapshot_id BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (product_id, table_name, idem_key)
);
CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);

-- One row: every bus position <= watermark is resolved.
CREATE TABLE bus_progress (
  id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
  watermark BIGINT NOT NULL
);
INSERT INTO bus_progress (id, watermark) VALUES (1, 0);

-- Resolved positions above the watermark, as disjoint, non-adjacent ranges;
-- a range that reaches watermark + 1 is folded into the watermark and deleted.
CREATE TABLE resolved_ranges (
  first_position BIGINT NOT NULL PRIMARY KEY,
  last_position BIGINT NOT NULL,
  CHECK (first_position <= last_position)
);
)sql";

// Garbage collection: a file that no kept snapshot lists any more (expiry
// passed the snapshot that retired it) is stamped with the time that
// happened; its object is deleted only after a grace period from then, so a
// reader that resolved an expired snapshot just before can finish.
constexpr std::string_view kUnreferencedFiles = R"sql(
ALTER TABLE data_files ADD COLUMN unreferenced_at BIGINT;
CREATE INDEX data_files_unreferenced ON data_files (product_id, unreferenced_at)
  WHERE unreferenced_at IS NOT NULL;
)sql";

// Authentication and the audit trail. A key row holds only a salted hash of
// the key's secret; a platform (superadmin) key is the only kind without a
// product. Products are named, not referenced by id, so a key or an audit
// entry reads on its own. Audit entries are append-only; their ids come from
// catalog_sequences like every other id.
constexpr std::string_view kAuthAndAudit = R"sql(
CREATE TABLE api_keys (
  id TEXT NOT NULL PRIMARY KEY,
  product TEXT,
  role TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'admin', 'superadmin')),
  secret_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT,
  CHECK ((role = 'superadmin' AND product IS NULL) OR (role <> 'superadmin' AND product IS NOT NULL))
);
CREATE INDEX api_keys_by_product ON api_keys (product);

CREATE TABLE audit_log (
  id BIGINT NOT NULL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  product TEXT,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  details_json TEXT NOT NULL
);
CREATE INDEX audit_log_by_product ON audit_log (product, id);
CREATE INDEX audit_log_by_time ON audit_log (at);
INSERT INTO catalog_sequences (name, next_value) VALUES ('audit_log', 1);
)sql";

// What ingest answered requests sent with an Idempotency-Key header, so that
// a retry on any node or after a restart gets the same answer. The
// fingerprint (of the body and format) is 16 hex digits.
constexpr std::string_view kRequestAnswers = R"sql(
CREATE TABLE request_answers (
  product_id BIGINT NOT NULL REFERENCES products (id),
  table_name TEXT NOT NULL,
  request_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  answer_json TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (product_id, table_name, request_key)
);
CREATE INDEX request_answers_by_expiry ON request_answers (expires_at);
)sql";

constexpr std::array kMigrations{
    Migration{1,
              "products, tables, schema versions, snapshots, data files, idempotency, "
              "bus progress",
              kInitialSchema},
    Migration{2, "data_files.unreferenced_at for garbage collection after snapshot expiry",
              kUnreferencedFiles},
    Migration{3, "api_keys (salted secret hashes) and audit_log of administrative actions",
              kAuthAndAudit},
    Migration{4, "request_answers: ingest's answers to requests with an Idempotency-Key header",
              kRequestAnswers},
};

}  // namespace

std::string_view schema_migrations_ddl() {
  return "CREATE TABLE IF NOT EXISTS schema_migrations ("
         "version BIGINT NOT NULL PRIMARY KEY, "
         "applied_at BIGINT NOT NULL)";
}

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return kMigrations.back().version;
}

}  // namespace duckmesh::catalog
