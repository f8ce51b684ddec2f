#include "bus/payload.hpp"

namespace duckmesh::bus {

Payload::Payload(std::string bytes) {
  if (bytes.empty()) return;  // no block for nothing
  block_ = std::make_shared<const std::string>(std::move(bytes));
  view_ = *block_;
}

void Payload::own() {
  if (is_slice()) *this = Payload(str());
}

}  // namespace duckmesh::bus
