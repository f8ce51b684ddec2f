// The shell's statement splitting and history file.
#include "client/shell.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace duckmesh::client {
namespace {

using Statements = std::vector<std::string>;

TEST(StatementSplitter, StatementsSpanLinesUntilTheSemicolon) {
  StatementSplitter s;
  EXPECT_TRUE(s.idle());
  EXPECT_EQ(s.add_line("SELECT a,"), Statements{});
  EXPECT_FALSE(s.idle());
  EXPECT_EQ(s.add_line("  b FROM t"), Statements{});
  EXPECT_EQ(s.add_line("WHERE a > 1;"), (Statements{"SELECT a,\n  b FROM t\nWHERE a > 1"}));
  EXPECT_TRUE(s.idle());
}

TEST(StatementSplitter, SeveralStatementsOnOneLine) {
  StatementSplitter s;
  EXPECT_EQ(s.add_line("SELECT 1; SELECT 2;;  SELECT 3"), (Statements{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(s.add_line(";"), (Statements{"SELECT 3"}));
}

TEST(StatementSplitter, SemicolonsInStringsNamesAndCommentsDoNotEndAStatement) {
  StatementSplitter s;
  EXPECT_EQ(s.add_line("SELECT 'a;b', 'it''s;' AS \"x;y\" -- not the end;"), Statements{});
  EXPECT_EQ(s.add_line("/* still ; not */ FROM t;"),
            (Statements{"SELECT 'a;b', 'it''s;' AS \"x;y\"\n/* still ; not */ FROM t"}));
}

TEST(StatementSplitter, StringsAndBlockCommentsSpanLines) {
  StatementSplitter s;
  EXPECT_EQ(s.add_line("SELECT 'one;"), Statements{});
  EXPECT_EQ(s.add_line("two' /* a;"), Statements{});
  EXPECT_EQ(s.add_line("b */;"), (Statements{"SELECT 'one;\ntwo' /* a;\nb */"}));
}

TEST(StatementSplitter, CommentOnlyLinesLeaveItIdle) {
  StatementSplitter s;
  EXPECT_EQ(s.add_line("-- a comment; with a semicolon"), Statements{});
  EXPECT_TRUE(s.idle());
  EXPECT_EQ(s.add_line("   "), Statements{});
  EXPECT_TRUE(s.idle());
}

TEST(StatementSplitter, TakePendingForgetsThePartialStatement) {
  StatementSplitter s;
  s.add_line("SELECT 'open");
  EXPECT_EQ(s.take_pending(), "SELECT 'open\n");
  EXPECT_TRUE(s.idle());
  EXPECT_EQ(s.add_line("SELECT 1;"), (Statements{"SELECT 1"}));
}

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/duckmesh-history-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(HistoryTest, AppendsAndLoadsEntriesOneALine) {
  auto file = dir_ / "history";
  {
    History h(file);
    h.load();
    EXPECT_TRUE(h.entries().empty());
    EXPECT_TRUE(h.add("SELECT 1\nFROM t;"));
    EXPECT_TRUE(h.add("\\tables"));
  }
  History again(file);
  again.load();
  EXPECT_EQ(again.entries(), (std::deque<std::string>{"SELECT 1 FROM t;", "\\tables"}));
  again.add("SELECT 2;");
  std::ifstream in(file);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "SELECT 1 FROM t;\n\\tables\nSELECT 2;\n");
}

TEST_F(HistoryTest, KeepsTheMostRecentEntries) {
  auto file = dir_ / "history";
  {
    std::ofstream out(file);
    for (int i = 0; i < 10; ++i) out << "q" << i << "\n";
  }
  History h(file, 3);
  h.load();
  EXPECT_EQ(h.entries(), (std::deque<std::string>{"q7", "q8", "q9"}));
  h.add("q10");
  EXPECT_EQ(h.entries(), (std::deque<std::string>{"q8", "q9", "q10"}));
}

TEST_F(HistoryTest, UnwritableFileIsReportedButTheEntryKept) {
  History h(dir_ / "no-such-dir" / "history");
  EXPECT_FALSE(h.add("SELECT 1;"));
  EXPECT_EQ(h.entries().size(), 1u);
}

TEST(DefaultHistoryFile, EnvironmentThenHome) {
  ::setenv("DUCKMESH_HISTORY", "/tmp/custom-history", 1);
  EXPECT_EQ(default_history_file(), std::filesystem::path("/tmp/custom-history"));
  ::unsetenv("DUCKMESH_HISTORY");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(default_history_file(), std::filesystem::path("/home/someone/.duckmesh_history"));
}

}  // namespace
}  // namespace duckmesh::client
