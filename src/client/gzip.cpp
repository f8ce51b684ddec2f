#include "client/gzip.hpp"

#include <zlib.h>

#include <limits>

#include "common/error.hpp"

namespace duckmesh::client {

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16 asks zlib for a gzip header and trailer instead of
  // the zlib wrapper.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Error(ErrorCode::internal, "gzip: cannot initialise zlib");
  }
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
  std::size_t in_pos = 0;
  int rc = Z_OK;
  do {
    // zlib counts in uInt; feed at most that much at a time.
    const std::size_t in_chunk =
        std::min<std::size_t>(data.size() - in_pos, std::numeric_limits<uInt>::max());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
    z.avail_in = static_cast<uInt>(in_chunk);
    const bool last = in_pos + in_chunk == data.size();
    do {
      if (z.total_out == out.size()) out.resize(out.size() * 2);
      const std::size_t room =
          std::min<std::size_t>(out.size() - z.total_out, std::numeric_limits<uInt>::max());
      z.next_out = reinterpret_cast<Bytef*>(out.data() + z.total_out);
      z.avail_out = static_cast<uInt>(room);
      rc = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) {
        deflateEnd(&z);
        throw Error(ErrorCode::internal, "gzip: zlib refused the data");
      }
    } while (z.avail_out == 0 || (last && rc != Z_STREAM_END));
    in_pos += in_chunk;
  } while (in_pos < data.size());
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace duckmesh::client
