// Payload: the bytes of one event as the bus carries it.
//
// A payload either has its bytes to itself, or is a slice of a block it
// shares with the other events of the request that brought it in: ingest
// writes a request's payloads one after the other into one buffer, one
// allocation per request instead of one per event, and the block is freed
// with the last of its events. Either way it reads as a string_view, and
// copies share the bytes (they are never changed).
//
// A slice keeps its whole block alive, so what holds one event for long
// takes own() first (a dead letter kept in memory), and one event does not
// keep a thousand others' bytes. A record that comes back for a retry is
// read back from the log, with bytes of its own.
//
// Thread safety: like a shared_ptr to const data; distinct Payload objects
// may be used on different threads, also when they share a block.
#pragma once

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace duckmesh::bus {

class Payload {
 public:
  Payload() = default;
  // Bytes of its own.
  Payload(std::string bytes);  // NOLINT: implicit, a payload is its bytes
  Payload(std::string_view bytes) : Payload(std::string(bytes)) {}
  Payload(const char* bytes) : Payload(std::string(bytes)) {}
  // Bytes [offset, offset + size) of a shared block.
  // REQUIRES offset + size <= block->size().
  Payload(std::shared_ptr<const std::string> block, std::size_t offset, std::size_t size)
      : block_(std::move(block)), view_(block_->data() + offset, size) {}
  Payload(const Payload&) = default;
  Payload& operator=(const Payload&) = default;
  // A payload moved from is empty, as a moved-from string is: it no longer
  // holds the block its view pointed into.
  Payload(Payload&& other) noexcept
      : block_(std::move(other.block_)), view_(std::exchange(other.view_, {})) {}
  Payload& operator=(Payload&& other) noexcept {
    block_ = std::move(other.block_);
    view_ = std::exchange(other.view_, {});
    return *this;
  }

  const char* data() const { return view_.data(); }
  std::size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  std::string_view view() const { return view_; }
  operator std::string_view() const { return view_; }  // NOLINT: implicit on purpose
  std::string str() const { return std::string(view_); }

  // True when it shares its block with other events' bytes.
  bool is_slice() const { return block_ != nullptr && block_->size() != view_.size(); }
  // The same bytes in a block of their own (no copy when they already are).
  void own();

  friend bool operator==(const Payload& a, const Payload& b) { return a.view_ == b.view_; }
  friend bool operator==(const Payload& a, std::string_view b) { return a.view_ == b; }
  friend bool operator==(const Payload& a, const std::string& b) { return a.view_ == b; }
  friend bool operator==(const Payload& a, const char* b) { return a.view_ == b; }
  friend std::ostream& operator<<(std::ostream& out, const Payload& p) { return out << p.view_; }

 private:
  std::shared_ptr<const std::string> block_;
  std::string_view view_;
};

}  // namespace duckmesh::bus
