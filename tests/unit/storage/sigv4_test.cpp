#include "storage/s3/sigv4.hpp"

#include <gtest/gtest.h>

#include "common/hex.hpp"

namespace duckmesh::storage::s3 {
namespace {

// The GET example of Amazon's S3 SigV4 documentation (examplebucket,
// /test.txt, Range bytes=0-9, 2013-05-24, us-east-1).
TEST(SigV4, MatchesThePublishedGetObjectExample) {
  SignedRequest r;
  r.method = "GET";
  r.canonical_uri = "/test.txt";
  r.payload_sha256 = sha256_hex("");
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"range", "bytes=0-9"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", "20130524T000000Z"}};
  Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  EXPECT_EQ(authorization(r, c, "us-east-1", "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, EncodesLikeSigV4AndSortsTheQuery) {
  EXPECT_EQ(uri_encode("a b/c~d+e", true), "a%20b/c~d%2Be");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(canonical_query({{"prefix", "p/x y"}, {"list-type", "2"}, {"continuation-token", ""}}),
            "continuation-token=&list-type=2&prefix=p%2Fx%20y");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// RFC 1321's test suite and RFC 4648's base64 vectors.
TEST(SigV4, Md5AndBase64MatchTheirRfcVectors) {
  EXPECT_EQ(to_hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(to_hex(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(to_hex(md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  // The Content-MD5 of an empty body, as S3 documents it.
  EXPECT_EQ(base64(md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

}  // namespace
}  // namespace duckmesh::storage::s3
