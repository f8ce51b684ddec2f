// gzip compression of request bodies (Content-Encoding: gzip), which the
// ingest API accepts; NDJSON shrinks several times over, which matters on
// slow links.
#pragma once

#include <string>
#include <string_view>

namespace duckmesh::client {

// `data` as one gzip member (RFC 1952). Throws duckmesh::Error (internal)
// if zlib fails, which only happens when memory runs out.
std::string gzip_compress(std::string_view data);

}  // namespace duckmesh::client
