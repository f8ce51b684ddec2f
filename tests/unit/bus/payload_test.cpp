#include "bus/payload.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace duckmesh::bus {
namespace {

TEST(PayloadTest, OwnBytesReadAsAString) {
  Payload p(std::string("abc"));
  EXPECT_EQ(p, "abc");
  EXPECT_EQ(p.size(), 3u);
  EXPECT_FALSE(p.is_slice());
  Payload copy = p;
  EXPECT_EQ(copy.data(), p.data());  // copies share the bytes
  EXPECT_TRUE(Payload().empty());
  EXPECT_EQ(Payload(std::string()), "");
}

TEST(PayloadTest, SlicesKeepTheirBlockAliveAndOwnLetsItGo) {
  auto block = std::make_shared<std::string>("firstsecondthird");
  std::weak_ptr<const std::string> watch = block;
  Payload second(std::move(block), 5, 6);
  Payload third(std::shared_ptr<const std::string>(watch.lock()), 11, 5);
  EXPECT_EQ(second, "second");
  EXPECT_EQ(third, std::string("third"));
  EXPECT_TRUE(second.is_slice());
  second.own();
  EXPECT_FALSE(second.is_slice());
  EXPECT_EQ(second, "second");
  EXPECT_FALSE(watch.expired());  // `third` still holds the block
  third.own();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(third, "third");
}

TEST(PayloadTest, APayloadMovedFromIsEmpty) {
  auto block = std::make_shared<const std::string>("onetwo");
  Payload one(block, 0, 3);
  Payload taken = std::move(one);
  EXPECT_EQ(taken, "one");
  EXPECT_TRUE(one.empty());  // NOLINT(bugprone-use-after-move): what is checked
  Payload two(block, 3, 3);
  Payload other;
  other = std::move(two);
  EXPECT_EQ(other, "two");
  EXPECT_TRUE(two.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(PayloadTest, ABlockHoldingOneWholePayloadIsNotASlice) {
  auto block = std::make_shared<const std::string>("all");
  Payload p(block, 0, 3);
  EXPECT_FALSE(p.is_slice());
  const char* before = p.data();
  p.own();
  EXPECT_EQ(p.data(), before);  // nothing to copy
}

}  // namespace
}  // namespace duckmesh::bus
