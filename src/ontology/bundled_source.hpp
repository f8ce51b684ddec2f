// BundledSchemaSource: definitions read from the *.json files of a folder
// (examples/ontology in the repository). The file name without ".json" is
// the schema id. Every file is read and checked when the source is built, so
// a broken bundled file stops the service at start instead of at first use.
#pragma once

#include <filesystem>
#include <map>

#include "ontology/schema_source.hpp"

namespace duckmesh::ontology {

class BundledSchemaSource : public SchemaSource {
 public:
  // invalid_input naming the file when one does not parse; not_found when
  // `dir` is not a folder.
  explicit BundledSchemaSource(std::filesystem::path dir);

  std::vector<std::string> list_schemas() override;
  OntologySchema fetch_schema(const std::string& id) override;
  std::string describe() const override { return "bundled:" + dir_.string(); }

 private:
  std::filesystem::path dir_;
  std::map<std::string, OntologySchema> schemas_;  // immutable after construction
};

// The bundled ontology folder: `configured` when not empty; otherwise the
// first of <exe>/examples/ontology, <exe>/../examples/ontology,
// <exe>/../share/duckmesh/ontology, ./examples/ontology that exists. Empty
// when none does.
std::filesystem::path find_bundled_dir(const std::string& configured);

}  // namespace duckmesh::ontology
