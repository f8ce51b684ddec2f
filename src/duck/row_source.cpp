#include "duck/row_source.hpp"

#include <cstring>
#include <utility>

#include "common/error.hpp"
#include "duck/logical_type.hpp"

namespace duckmesh::duck {

namespace {

LogicalType logical_type_of(const SourceColumn& column) {
  switch (column.type) {
    case SourceType::boolean: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN));
    case SourceType::integer: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_INTEGER));
    case SourceType::bigint: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
    case SourceType::ubigint: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT));
    case SourceType::double_: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE));
    case SourceType::decimal:
      return LogicalType(duckdb_create_decimal_type(column.width, column.scale));
    case SourceType::varchar: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
    case SourceType::date: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_DATE));
    case SourceType::timestamp:
      return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP));
    case SourceType::timestamptz:
      return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ));
    case SourceType::uuid: return LogicalType(duckdb_create_logical_type(DUCKDB_TYPE_UUID));
  }
  throw Error(ErrorCode::internal, "row source: unknown column type");
}

// DuckDB stores a DECIMAL of this many digits in an integer of this size.
std::size_t decimal_bytes(std::uint8_t width) {
  if (width <= 4) return 2;
  if (width <= 9) return 4;
  if (width <= 18) return 8;
  return 16;
}

}  // namespace

void ChunkWriter::set_null(idx_t column, idx_t row) {
  if (validity_[column] == nullptr) {
    duckdb_vector_ensure_validity_writable(vectors_[column]);
    validity_[column] = duckdb_vector_get_validity(vectors_[column]);
  }
  duckdb_validity_set_row_invalid(validity_[column], row);
}

void ChunkWriter::set_decimal(idx_t column, idx_t row, Int128 scaled) {
  switch (decimal_bytes((*columns_)[column].width)) {
    case 2:
      static_cast<std::int16_t*>(data_[column])[row] = static_cast<std::int16_t>(scaled);
      break;
    case 4:
      static_cast<std::int32_t*>(data_[column])[row] = static_cast<std::int32_t>(scaled);
      break;
    case 8:
      static_cast<std::int64_t*>(data_[column])[row] = static_cast<std::int64_t>(scaled);
      break;
    default:
      static_cast<duckdb_hugeint*>(data_[column])[row] = duckdb_hugeint{
          static_cast<std::uint64_t>(scaled), static_cast<std::int64_t>(scaled >> 64)};
  }
}

void ChunkWriter::set_uuid(idx_t column, idx_t row, std::uint64_t high, std::uint64_t low) {
  // DuckDB keeps a UUID as a HUGEINT with the top bit flipped, so that
  // signed order is the UUIDs' order.
  static_cast<duckdb_hugeint*>(data_[column])[row] =
      duckdb_hugeint{low, static_cast<std::int64_t>(high ^ (std::uint64_t{1} << 63))};
}

void ChunkWriter::set_string(idx_t column, idx_t row, std::string_view value) {
  if (value.size() <= sizeof(duckdb_string_t::value.inlined.inlined)) {
    // Short strings live inside the vector's slot, zero-padded: written
    // here directly, which saves DuckDB's call and its copy.
    duckdb_string_t s;
    std::memset(&s, 0, sizeof s);
    s.value.inlined.length = static_cast<std::uint32_t>(value.size());
    if (!value.empty()) std::memcpy(s.value.inlined.inlined, value.data(), value.size());
    static_cast<duckdb_string_t*>(data_[column])[row] = s;
    return;
  }
  duckdb_vector_assign_string_element_len(vectors_[column], row, value.data(), value.size());
}

void ChunkWriter::set_string_ref(idx_t column, idx_t row, std::string_view value) {
  if (value.size() <= sizeof(duckdb_string_t::value.inlined.inlined)) {
    set_string(column, row, value);
    return;
  }
  duckdb_string_t s;
  s.value.pointer.length = static_cast<std::uint32_t>(value.size());
  std::memcpy(s.value.pointer.prefix, value.data(), sizeof s.value.pointer.prefix);
  s.value.pointer.ptr = const_cast<char*>(value.data());  // DuckDB only reads it
  static_cast<duckdb_string_t*>(data_[column])[row] = s;
}

// The C callbacks. extra_info is a Handle that DuckDB deletes with the
// function; the RowSource clears `owner` when it goes, so a statement that
// names the function afterwards fails cleanly instead of touching freed
// memory. No exception may cross back into DuckDB: each callback catches
// everything and reports it through the C API.
struct RowSource::Callbacks {
  struct Handle {
    RowSource* owner = nullptr;
  };

  static RowSource* owner_of(void* extra) { return static_cast<Handle*>(extra)->owner; }

  static void bind(duckdb_bind_info info) {
    RowSource* self = owner_of(duckdb_bind_get_extra_info(info));
    if (self == nullptr || self->columns_ == nullptr) {
      duckdb_bind_set_error(info, "this row source has no rows to give outside its query()");
      return;
    }
    try {
      for (const auto& c : *self->columns_) {
        auto type = logical_type_of(c);
        duckdb_bind_add_result_column(info, c.name.c_str(), type.get());
      }
    } catch (const std::exception& e) {
      duckdb_bind_set_error(info, e.what());
    }
  }

  // Per scanning thread: its slot and its writer.
  struct Local {
    std::size_t slot = 0;
    ChunkWriter writer;
  };

  static void init(duckdb_init_info info) {
    RowSource* self = owner_of(duckdb_init_get_extra_info(info));
    duckdb_init_set_max_threads(info, self == nullptr ? 1 : self->threads_);
  }

  static void local_init(duckdb_init_info info) {
    RowSource* self = owner_of(duckdb_init_get_extra_info(info));
    auto* local = new Local;
    if (self != nullptr) local->slot = self->next_slot_.fetch_add(1);
    duckdb_init_set_init_data(info, local, [](void* p) { delete static_cast<Local*>(p); });
  }

  static void produce(duckdb_function_info info, duckdb_data_chunk output) {
    RowSource* self = owner_of(duckdb_function_get_extra_info(info));
    auto* local = static_cast<Local*>(duckdb_function_get_local_init_data(info));
    if (self == nullptr || self->producer_ == nullptr || local == nullptr) {
      duckdb_function_set_error(info, "this row source has no rows to give outside its query()");
      return;
    }
    try {
      ChunkWriter& w = local->writer;
      const auto& columns = *self->columns_;
      w.columns_ = &columns;
      w.capacity_ = duckdb_vector_size();
      w.vectors_.resize(columns.size());
      w.data_.resize(columns.size());
      w.validity_.assign(columns.size(), nullptr);
      for (idx_t c = 0; c < columns.size(); ++c) {
        w.vectors_[c] = duckdb_data_chunk_get_vector(output, c);
        w.data_[c] = duckdb_vector_get_data(w.vectors_[c]);
      }
      idx_t rows = (*self->producer_)(w, local->slot);
      duckdb_data_chunk_set_size(output, rows);
    } catch (...) {
      {
        std::lock_guard lock(self->failure_mutex_);
        if (!self->failure_) self->failure_ = std::current_exception();
      }
      duckdb_data_chunk_set_size(output, 0);
      duckdb_function_set_error(info, "the row source's producer failed");
    }
  }

  static void destroy(void* extra) { delete static_cast<Handle*>(extra); }
};

RowSource::RowSource(Connection& connection, std::string name)
    : connection_(connection), name_(std::move(name)) {
  duckdb_table_function function = duckdb_create_table_function();
  auto* handle = new Callbacks::Handle{this};
  duckdb_table_function_set_name(function, name_.c_str());
  duckdb_table_function_set_extra_info(function, handle, Callbacks::destroy);
  duckdb_table_function_set_bind(function, Callbacks::bind);
  duckdb_table_function_set_init(function, Callbacks::init);
  duckdb_table_function_set_local_init(function, Callbacks::local_init);
  duckdb_table_function_set_function(function, Callbacks::produce);
  duckdb_state state = duckdb_register_table_function(connection_.handle(), function);
  duckdb_destroy_table_function(&function);  // the registration keeps its own copy
  if (state != DuckDBSuccess) {
    throw Error(ErrorCode::internal, "registering the table function " + name_ + " failed");
  }
  handle_ = handle;
}

RowSource::~RowSource() {
  static_cast<Callbacks::Handle*>(handle_)->owner = nullptr;
}

Result RowSource::query(std::string_view sql, const std::vector<SourceColumn>& columns,
                        const Producer& producer, std::size_t threads) {
  columns_ = &columns;
  producer_ = &producer;
  threads_ = threads == 0 ? 1 : threads;
  next_slot_ = 0;
  failure_ = nullptr;
  struct Reset {
    RowSource& self;
    ~Reset() {
      self.columns_ = nullptr;
      self.producer_ = nullptr;
    }
  } reset{*this};
  try {
    return connection_.query(sql);
  } catch (...) {
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    throw;
  }
}

}  // namespace duckmesh::duck
