// gunzip(): declared in ingest/validation.hpp.
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "common/error.hpp"
#include "ingest/validation.hpp"

namespace duckmesh::ingest {
namespace {

// Owns a zlib inflate stream.
class Inflater {
 public:
  Inflater() {
    // 16 + MAX_WBITS: gzip framing only (Content-Encoding: gzip), with the
    // CRC and length trailer checked by zlib.
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
      throw Error(ErrorCode::internal, "cannot initialise gzip decompression");
    }
  }
  ~Inflater() { inflateEnd(&stream_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  z_stream& stream() { return stream_; }

 private:
  z_stream stream_{};
};

Error corrupt(const char* why) {
  return Error(ErrorCode::invalid_input,
               std::string("the gzip body cannot be decompressed: ") + why);
}

}  // namespace

std::string gunzip(std::string_view body, std::size_t max_bytes) {
  if (body.empty()) throw corrupt("it is empty");
  if (body.size() > UINT_MAX) throw corrupt("it is larger than 4 GiB");
  Inflater inflater;
  z_stream& z = inflater.stream();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());

  std::string out;
  // Text compresses around 5-10x; start there and grow geometrically, but
  // never past the limit (+1 byte, to notice going over it).
  std::size_t cap = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  out.resize(std::min(cap, std::max<std::size_t>(body.size() * 8, 4096)));
  std::size_t produced = 0;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= cap) break;
      out.resize(std::min(cap, out.size() * 2));
    }
    std::size_t room = std::min<std::size_t>(out.size() - produced, UINT_MAX);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(room);
    int rc = inflate(&z, Z_NO_FLUSH);
    produced += room - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      // Another gzip member follows (concatenated gzip files are one stream).
      if (inflateReset(&z) != Z_OK) throw corrupt("cannot start the next gzip member");
      continue;
    }
    if (rc == Z_DATA_ERROR) throw corrupt(z.msg != nullptr ? z.msg : "corrupt data");
    if (rc == Z_MEM_ERROR)
      throw Error(ErrorCode::unavailable, "out of memory while decompressing the body");
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && z.avail_out != 0) throw corrupt("it is truncated");
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw corrupt("unexpected zlib state");
  }
  if (produced > max_bytes) {
    throw Error(ErrorCode::payload_too_large,
                "the decompressed body is larger than " + std::to_string(max_bytes) +
                    " bytes; send smaller requests",
                {{"max_bytes", max_bytes}});
  }
  out.resize(produced);
  return out;
}

}  // namespace duckmesh::ingest
