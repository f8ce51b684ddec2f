// Fault injection for crash tests.
//
// The environment variable DUCKMESH_FAULT names the points at which the
// process kills itself, as a comma-separated list. Each entry is either
// `point` (fires the first time the point is reached) or `point@N` (fires the
// N-th time, N >= 1), e.g. DUCKMESH_FAULT=log_mid_append@40. The variable is
// read once, on the first call into this namespace; an unset or empty
// variable arms nothing, and then every call is a cheap lookup that returns
// false.
//
// Crashing means SIGKILL to the own process: no destructors, no atexit
// handlers, no stdio flush — the same as a power cut for everything that was
// not yet handed to the kernel, which is exactly what crash tests need.
//
// Thread safety: every function may be called concurrently; hits are counted
// atomically, so with `point@N` exactly one caller sees armed() == true.
#pragma once

#include <string_view>

namespace duckmesh::fault {

// Counts one hit of `point` and returns true if this hit is the one that must
// fire. A caller that wants to do something half-way before dying (write half
// a buffer, say) checks armed() and then calls crash().
bool armed(std::string_view point);

// Kills the process with SIGKILL. Never returns.
[[noreturn]] void crash();

// armed(point) followed by crash() when it fires.
void maybe_crash(std::string_view point);

}  // namespace duckmesh::fault
