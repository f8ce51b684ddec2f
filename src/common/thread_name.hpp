// Names the calling thread as `top -H`, `ps -L` and /proc/<pid>/task/*/comm
// show it, so an operator can tell which part of the service uses the CPU
// (dm-http, dm-worker, dm-commit, dm-maint). Linux keeps 15 bytes; a longer
// name is cut.
#pragma once

namespace duckmesh {

void name_this_thread(const char* name);

}  // namespace duckmesh
