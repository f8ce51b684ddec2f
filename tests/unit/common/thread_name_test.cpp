#include "common/thread_name.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace duckmesh {
namespace {

// What `top -H` shows for the calling thread.
std::string shown_name() {
  std::ifstream in("/proc/self/task/" + std::to_string(::gettid()) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(ThreadName, NamesTheCallingThreadOnly) {
  std::string before = shown_name();
  std::string inside;
  std::thread([&] {
    name_this_thread("dm-test");
    inside = shown_name();
  }).join();
  EXPECT_EQ(inside, "dm-test");
  EXPECT_EQ(shown_name(), before);
}

TEST(ThreadName, ALongNameIsCutToWhatLinuxKeeps) {
  std::string inside;
  std::thread([&] {
    name_this_thread("dm-a-name-longer-than-fifteen");
    inside = shown_name();
  }).join();
  EXPECT_EQ(inside, "dm-a-name-longe");
}

}  // namespace
}  // namespace duckmesh
