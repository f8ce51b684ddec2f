#include "common/thread_name.hpp"

#include <pthread.h>

#include <cstring>
#include <string>

namespace duckmesh {

void name_this_thread(const char* name) {
  std::string cut(name, ::strnlen(name, 15));
  // Best effort: a name is a label for people, never worth failing for.
  static_cast<void>(::pthread_setname_np(::pthread_self(), cut.c_str()));
}

}  // namespace duckmesh
