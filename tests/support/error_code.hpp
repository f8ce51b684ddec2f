// The ErrorCode a call throws, for tests that check which error a refusal is.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "common/error.hpp"

namespace duckmesh::testing {

// Runs `f` and answers the code of the duckmesh::Error it throws; a call that
// throws nothing is a test failure (and answers internal).
inline ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "expected a duckmesh::Error";
  return ErrorCode::internal;
}

}  // namespace duckmesh::testing
