// What every CatalogRepo backend checks before it writes, and the errors it
// throws when a request breaks a rule, in one place so that the backends
// cannot drift apart (the conformance tests hold them to it).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_repo.hpp"

namespace duckmesh::catalog {

// Positions are stored as BIGINT; the largest one leaves room for the
// `last + 1` that range merging computes.
inline constexpr std::int64_t kMaxPosition = std::numeric_limits<std::int64_t>::max() - 1;

// Error invalid_input with details.field = `field`.
[[noreturn]] void throw_invalid(std::string message, std::string_view field);
[[noreturn]] void throw_product_not_found(const std::string& product);
[[noreturn]] void throw_table_not_found(const std::string& product, const std::string& table);
[[noreturn]] void throw_product_exists(const std::string& product);
[[noreturn]] void throw_table_exists(const std::string& product, const std::string& table);
// not_found: the product never had a data file of that id.
[[noreturn]] void throw_file_not_found(const std::string& product, std::int64_t file_id);
// conflict: the file was live once, but snapshot `removed_in` retired it.
[[noreturn]] void throw_file_not_live(const std::string& product, std::int64_t file_id,
                                      std::int64_t removed_in);
// conflict: the key is recorded, unexpired, for a publication in `snapshot_id`.
[[noreturn]] void throw_key_committed(const std::string& product, const IdempotencyEntry& entry,
                                      std::int64_t snapshot_id);

// conflict: bus positions first..last of a publication are already resolved
// (another coordinator committed, dropped or dead-lettered them first).
[[noreturn]] void throw_already_resolved(std::int64_t first, std::int64_t last);

// The position as stored; invalid_input for 0 or above kMaxPosition.
std::int64_t stored_position(bus::Position position, std::string_view field);
// invalid_input for a range out of bounds or with first > last.
void validate_ranges(const std::vector<PositionRange>& ranges);
// invalid_input: bad table name, empty schema, a keyed table without a
// primary key or an append table with one, an unknown partition transform.
void validate_table_def(const TableDef& def);
// invalid_input: an empty path, negative counts, an empty table or key of an
// idempotency entry, a position out of range.
void validate_publication(const Publication& publication);

std::string json_or_empty_object(const std::string& text);
// The summary_json of a schema snapshot.
std::string schema_summary(std::string_view action, const std::string& table, std::int32_t version);

// An API key record fit to store: a known role, a product exactly when the
// role is not superadmin, an id and a hash (invalid_input naming the field).
void validate_api_key(const ApiKeyRecord& key);

// An audit entry names an actor, an action and an outcome (invalid_input).
void validate_audit_entry(const AuditEntry& entry);

// A request answer's fingerprint as stored (16 lower-case hex digits) and
// back; internal for stored text that is not such a fingerprint.
std::string fingerprint_text(std::uint64_t fingerprint);
std::uint64_t fingerprint_of_text(std::string_view text);
// invalid_input: an empty product, table or key, or an empty answer.
void validate_request_record(const RequestRecord& record);

}  // namespace duckmesh::catalog
