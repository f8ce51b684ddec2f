// Ingest progress on stderr: a live line on a terminal, one summary line
// elsewhere.
#include "client/progress_line.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace duckmesh::client {
namespace {

TEST(ProgressText, EventsRateShareAndTimeLeft) {
  EXPECT_EQ(progress_text(12000, 3.0, std::nullopt), "12000 events sent, 4000 events/s");
  EXPECT_EQ(progress_text(12000, 3.0, 0.25),
            "12000 events sent, 4000 events/s, 25%, about 9 s left");
  EXPECT_EQ(progress_text(100, 10.0, 0.1),
            "100 events sent, 10 events/s, 10%, about 1 min 30 s left");
  EXPECT_EQ(progress_text(5, 0.5, 0.99), "5 events sent, 10 events/s, 99%, under 1 s left");
  EXPECT_EQ(progress_text(0, 0.0, std::nullopt), "0 events sent");
  EXPECT_EQ(progress_text(10, 1.0, 1.0), "10 events sent, 10 events/s, 100%");
}

TEST(ProgressLine, WithoutATerminalOnlyTheFinalLineIsWritten) {
  std::ostringstream out, err;
  Console console{out, err, false, false};
  ProgressLine progress(console, 1000);
  progress.update(10, 100);
  progress.update(20, 200);
  EXPECT_EQ(err.str(), "");
  progress.message("retrying");
  EXPECT_EQ(err.str(), "retrying\n");
  progress.finish(2, 1);
  const std::string text = err.str();
  EXPECT_NE(text.find("20 events sent in 2 batches in "), std::string::npos) << text;
  EXPECT_NE(text.find(", 1 retry)"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressLine, OnATerminalTheLineIsRedrawnAndClearedForMessages) {
  std::ostringstream out, err;
  Console console{out, err, true, false};
  ProgressLine progress(console, 1000);
  progress.update(10, 500);
  EXPECT_EQ(err.str().rfind("\r10 events sent", 0), 0u) << err.str();
  EXPECT_NE(err.str().find("50%"), std::string::npos) << err.str();
  err.str("");
  progress.message("rejected 1 event");
  // Cleared, the message on its own line, then the progress drawn again.
  EXPECT_EQ(err.str().find("\r"), 0u);
  EXPECT_NE(err.str().find("\rrejected 1 event\n\r10 events sent"), std::string::npos) << err.str();
  err.str("");
  progress.finish(1, 0);
  EXPECT_NE(err.str().find("10 events sent in 1 batch in "), std::string::npos) << err.str();
  EXPECT_EQ(err.str().back(), '\n');
}

}  // namespace
}  // namespace duckmesh::client
