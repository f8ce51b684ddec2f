// JSON text forms of the structured catalog fields that are stored in TEXT
// columns (a table's primary key, a data file's column statistics). Every
// CatalogRepo backend uses these, so the stored text is the same whichever
// backend wrote it.
//
// Primary key: ["col", ...]
// Column stats: [{"column": "c", "min": "1", "max": "9", "null_count": 0}, ...]
//               with "min"/"max" left out when the column held only NULLs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_repo.hpp"

namespace duckmesh::catalog {

std::string encode_string_list(const std::vector<std::string>& items);
// Throws duckmesh::Error internal when `text` is not a JSON array of strings:
// the catalog only ever stores what encode_string_list wrote.
std::vector<std::string> decode_string_list(std::string_view text);

std::string encode_column_stats(const std::vector<ColumnStats>& stats);
// Throws duckmesh::Error internal when `text` is not in the form above.
std::vector<ColumnStats> decode_column_stats(std::string_view text);

}  // namespace duckmesh::catalog
