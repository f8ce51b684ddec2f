#include "ontology/bundled_source.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.hpp"

namespace duckmesh::ontology {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::unavailable, "cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BundledSchemaSource::BundledSchemaSource(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec)) {
    throw Error(ErrorCode::not_found,
                "bundled ontology folder '" + dir_.string() + "' does not exist",
                {{"path", dir_.string()}});
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    std::string id = entry.path().stem().string();
    try {
      auto schema = OntologySchema::parse_text(read_text(entry.path()));
      schemas_.emplace(id, std::move(schema));
    } catch (const Error& e) {
      throw Error(
          ErrorCode::invalid_input,
          "bundled ontology file '" + entry.path().string() + "': " + std::string(e.message()),
          {{"path", entry.path().string()}});
    }
  }
}

std::vector<std::string> BundledSchemaSource::list_schemas() {
  std::vector<std::string> ids;
  for (const auto& [id, schema] : schemas_) ids.push_back(id);
  return ids;
}

OntologySchema BundledSchemaSource::fetch_schema(const std::string& id) {
  auto it = schemas_.find(id);
  if (it == schemas_.end()) {
    throw Error(ErrorCode::not_found, "the bundled ontology has no schema '" + id + "'",
                {{"schema", id}});
  }
  return it->second;
}

std::filesystem::path find_bundled_dir(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::vector<std::filesystem::path> candidates;
  if (!ec) {
    auto dir = exe.parent_path();
    candidates = {dir / "examples/ontology", dir / "../examples/ontology",
                  dir / "../share/duckmesh/ontology"};
  }
  candidates.emplace_back("examples/ontology");
  for (const auto& c : candidates) {
    if (std::filesystem::is_directory(c, ec)) return std::filesystem::weakly_canonical(c, ec);
  }
  return {};
}

}  // namespace duckmesh::ontology
