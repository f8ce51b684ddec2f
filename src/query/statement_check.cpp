#include "query/statement_check.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <optional>
#include <vector>

#include "common/error.hpp"
#include "duck/logical_type.hpp"

namespace duckmesh::query {
namespace {

// ---- Scanner -------------------------------------------------------------
//
// Splits SQL into tokens the way DuckDB's (PostgreSQL-derived) lexer does,
// as far as the gate needs: where strings, quoted identifiers, dollar
// quotes, comments and statements begin and end, and which names are
// called. Checked against DuckDB itself: standard strings ('it''s', a
// backslash is a plain character), escape strings (E'it\'s'), dollar
// quotes ($$..$$, $tag$..$tag$), "quoted ""identifiers""", -- comments and
// /* nested /* block */ comments */.

enum class TokenKind { word, quoted_identifier, string, number, parameter, symbol };

struct Token {
  TokenKind kind;
  std::size_t begin;
  std::size_t end;  // one past the last character
};

struct Scan {
  std::vector<Token> tokens;
  // Set when the text ends inside a string, quoted identifier or comment.
  std::optional<std::string> unterminated;
};

bool is_ident_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) != 0 || c == '_' || u >= 0x80;
}

bool is_ident_cont(char c) {
  return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) != 0;
}

bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Scan scan_sql(std::string_view sql) {
  Scan scan;
  const std::size_t n = sql.size();
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return k < n ? sql[k] : '\0'; };
  auto unterminated = [&](std::string what, std::size_t begin) {
    scan.unterminated =
        "unterminated " + what + " starting at character " + std::to_string(begin + 1);
  };
  // Moves `i` past the closing `quote` of a quoted run whose opening quote
  // is behind it. A doubled quote stands for one; with `escapes`, a
  // backslash also escapes the character after it. False when the text ends
  // first.
  auto skip_quoted = [&](char quote, bool escapes) {
    while (i < n) {
      if (escapes && sql[i] == '\\') {
        i += 2;
      } else if (sql[i] == quote) {
        if (at(i + 1) != quote) {
          ++i;
          return true;
        }
        i += 2;
      } else {
        ++i;
      }
    }
    return false;
  };
  while (i < n && !scan.unterminated) {
    const char c = sql[i];
    const std::size_t begin = i;
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '-' && at(i + 1) == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && at(i + 1) == '*') {
      int depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] == '/' && at(i + 1) == '*') {
          ++depth;
          i += 2;
        } else if (sql[i] == '*' && at(i + 1) == '/') {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      }
      if (depth > 0) unterminated("/* comment", begin);
    } else if (c == '\'' || ((c == 'e' || c == 'E') && at(i + 1) == '\'' &&
                             (i == 0 || !is_ident_cont(sql[i - 1])))) {
      // E'...' takes backslash escapes; both kinds take '' for a quote.
      const bool escapes = c != '\'';
      i += escapes ? 2 : 1;
      if (!skip_quoted('\'', escapes)) {
        unterminated("quoted string", begin);
      } else {
        scan.tokens.push_back({TokenKind::string, begin, i});
      }
    } else if (c == '"') {
      ++i;
      if (!skip_quoted('"', false)) {
        unterminated("quoted identifier", begin);
      } else {
        scan.tokens.push_back({TokenKind::quoted_identifier, begin, i});
      }
    } else if (c == '$') {
      std::size_t j = i + 1;
      if (is_digit(at(j))) {
        while (is_digit(at(j))) ++j;
        scan.tokens.push_back({TokenKind::parameter, begin, j});
        i = j;
        continue;
      }
      // $tag$ opens a dollar quote; $name alone is a named parameter.
      while (j < n && is_ident_cont(sql[j])) ++j;
      if (at(j) == '$') {
        const std::string_view delimiter = sql.substr(i, j + 1 - i);
        const std::size_t close = sql.find(delimiter, j + 1);
        if (close == std::string_view::npos) {
          unterminated("dollar-quoted string", begin);
        } else {
          i = close + delimiter.size();
          scan.tokens.push_back({TokenKind::string, begin, i});
        }
      } else if (j > i + 1) {
        scan.tokens.push_back({TokenKind::parameter, begin, j});
        i = j;
      } else {
        scan.tokens.push_back({TokenKind::symbol, begin, i + 1});
        ++i;
      }
    } else if (is_ident_start(c)) {
      while (i < n && (is_ident_cont(sql[i]) || sql[i] == '$')) ++i;
      scan.tokens.push_back({TokenKind::word, begin, i});
    } else if (is_digit(c) || (c == '.' && is_digit(at(i + 1)))) {
      while (i < n) {
        const char d = sql[i];
        if ((d == '+' || d == '-') && (sql[i - 1] == 'e' || sql[i - 1] == 'E')) {
          ++i;
        } else if (is_ident_cont(d) || d == '.') {
          ++i;
        } else {
          break;
        }
      }
      scan.tokens.push_back({TokenKind::number, begin, i});
    } else if (c == '?') {
      scan.tokens.push_back({TokenKind::parameter, begin, i + 1});
      ++i;
    } else {
      scan.tokens.push_back({TokenKind::symbol, begin, i + 1});
      ++i;
    }
  }
  return scan;
}

// ---- Rules ---------------------------------------------------------------

constexpr std::string_view kAllowed =
    "a query must be one read-only statement: SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, "
    "SUMMARIZE, SHOW, PIVOT, UNPIVOT, a query pragma such as PRAGMA version, or EXPLAIN of one "
    "of these";

// Words a reading statement can start with. Anything else is refused
// before DuckDB prepares it.
constexpr std::array<std::string_view, 15> kReadingKeywords = {
    "select", "with",    "from",   "values", "table",       "describe",     "desc",   "summarize",
    "show",   "explain", "pragma", "pivot",  "pivot_wider", "pivot_longer", "unpivot"};

// Words that start statements other than queries: refused as such. Any
// other unknown first word is a syntax error.
constexpr std::array<std::string_view, 35> kStatementKeywords = {
    "abort",    "alter",   "analyze", "attach",   "begin",      "call",   "checkpoint",
    "comment",  "commit",  "copy",    "create",   "deallocate", "delete", "detach",
    "drop",     "end",     "execute", "export",   "force",      "grant",  "import",
    "insert",   "install", "load",    "merge",    "prepare",    "reset",  "revoke",
    "rollback", "set",     "start",   "truncate", "update",     "use",    "vacuum"};

// Functions a SELECT can call that change the database's state, write
// files, run SQL given as text (which would escape this check), read raw
// memory, or (import_database, copy_database) expand into statements read
// from files. Besides these, every name starting with enable_, disable_ or
// verify_ is refused: DuckDB uses those prefixes for switches.
constexpr std::array<std::string_view, 13> kRefusedFunctions = {"enable_logging",
                                                                "disable_logging",
                                                                "truncate_duckdb_logs",
                                                                "write_log",
                                                                "checkpoint",
                                                                "force_checkpoint",
                                                                "query",
                                                                "json_execute_serialized_sql",
                                                                "import_database",
                                                                "copy_database",
                                                                "arrow_scan",
                                                                "arrow_scan_dumb",
                                                                "add_parquet_key"};

bool refused_function(const std::string& name) {
  if (std::find(kRefusedFunctions.begin(), kRefusedFunctions.end(), name) !=
      kRefusedFunctions.end()) {
    return true;
  }
  return name.starts_with("enable_") || name.starts_with("disable_") ||
         name.starts_with("verify_") || name.find("peg_parser") != std::string::npos;
}

// The name a word or quoted identifier stands for, lower-cased: DuckDB
// matches names case-insensitively, quoted or not.
std::string token_name(std::string_view sql, const Token& t) {
  std::string_view text = sql.substr(t.begin, t.end - t.begin);
  if (t.kind != TokenKind::quoted_identifier) return lower(text);
  std::string name;
  for (std::size_t k = 1; k + 1 < text.size(); ++k) {
    name.push_back(text[k]);
    if (text[k] == '"') ++k;  // "" stands for one quote
  }
  return lower(name);
}

bool is_symbol(std::string_view sql, const Token& t, char c) {
  return t.kind == TokenKind::symbol && sql[t.begin] == c;
}

bool is_word(std::string_view sql, const Token& t, std::string_view lower_word) {
  return t.kind == TokenKind::word && token_name(sql, t) == lower_word;
}

[[noreturn]] void refuse_statement(std::string type_name) {
  throw Error(ErrorCode::forbidden,
              type_name + " statements are not allowed: " + std::string(kAllowed),
              {{"statement_type", type_name}});
}

// Tokens [first, last] of one statement, by ';' between them.
struct Span {
  std::size_t first;
  std::size_t last;
};

std::vector<Span> split_statements(std::string_view sql, const std::vector<Token>& tokens) {
  std::vector<Span> spans;
  bool open = false;  // whether tokens[start] begins a statement not yet closed
  std::size_t start = 0;
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    if (is_symbol(sql, tokens[k], ';')) {
      if (open) spans.push_back({start, k - 1});
      open = false;
    } else if (!open) {
      open = true;
      start = k;
    }
  }
  if (open) spans.push_back({start, tokens.size() - 1});
  return spans;
}

void check_functions(std::string_view sql, const std::vector<Token>& tokens) {
  for (std::size_t k = 0; k + 1 < tokens.size(); ++k) {
    const Token& t = tokens[k];
    if (t.kind != TokenKind::word && t.kind != TokenKind::quoted_identifier) continue;
    if (!is_symbol(sql, tokens[k + 1], '(')) continue;
    std::string name = token_name(sql, t);
    if (refused_function(name)) {
      throw Error(ErrorCode::forbidden,
                  "function " + name +
                      "() is not allowed in a query: it changes the database's state, writes "
                      "files or runs SQL given as text; " +
                      std::string(kAllowed),
                  {{"function", name}});
    }
  }
}

// Refuses a statement whose first token is not a reading keyword.
void check_leading_keyword(std::string_view sql, const Token& first) {
  if (is_symbol(sql, first, '(')) return;  // (SELECT ...) UNION (SELECT ...)
  if (first.kind != TokenKind::word) {
    throw Error(ErrorCode::invalid_input,
                "a query must start with a keyword such as SELECT; " + std::string(kAllowed));
  }
  const std::string word = token_name(sql, first);
  auto contains = [&word](const auto& words) {
    return std::find(words.begin(), words.end(), word) != words.end();
  };
  if (contains(kReadingKeywords)) return;
  std::string type = word;
  for (char& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (contains(kStatementKeywords)) refuse_statement(type);
  throw Error(ErrorCode::invalid_input,
              "syntax error at or near \"" +
                  std::string(sql.substr(first.begin, first.end - first.begin)) +
                  "\": " + std::string(kAllowed));
}

// Prepares a statement that passed the text checks and requires `wanted`.
duck::PreparedStatement prepare_as(duck::Connection& conn, std::string_view sql,
                                   duckdb_statement_type wanted) {
  duck::PreparedStatement prepared = conn.prepare(sql);
  const duckdb_statement_type type = prepared.statement_type();
  if (type != wanted) refuse_statement(std::string(duck::statement_type_name(type)));
  return prepared;
}

// The index of the first token of the statement an EXPLAIN explains:
// after EXPLAIN, ANALYZE/ANALYSE and an option list "(FORMAT json, ...)".
// A parenthesis that opens a query, as in EXPLAIN (SELECT 1), starts it.
std::size_t explained_statement(std::string_view sql, const std::vector<Token>& tokens, Span span) {
  std::size_t k = span.first + 1;
  while (k <= span.last) {
    const Token& t = tokens[k];
    if (is_word(sql, t, "analyze") || is_word(sql, t, "analyse")) {
      ++k;
      continue;
    }
    if (is_symbol(sql, t, '(') && k + 1 <= span.last) {
      const Token& next = tokens[k + 1];
      const bool opens_query = is_symbol(sql, next, '(') || is_word(sql, next, "select") ||
                               is_word(sql, next, "with") || is_word(sql, next, "from") ||
                               is_word(sql, next, "values") || is_word(sql, next, "table");
      if (!opens_query) {
        int depth = 0;
        for (; k <= span.last; ++k) {
          if (is_symbol(sql, tokens[k], '(')) ++depth;
          if (is_symbol(sql, tokens[k], ')') && --depth == 0) break;
        }
        ++k;
        continue;
      }
    }
    break;
  }
  if (k > span.last) {
    throw Error(ErrorCode::invalid_input, "EXPLAIN must be followed by the query to explain");
  }
  return k;
}

}  // namespace

CheckedStatement prepare_read_only(duck::Connection& conn, std::string_view sql) {
  const Scan scan = scan_sql(sql);
  if (scan.unterminated) {
    throw Error(ErrorCode::invalid_input, "cannot read the query: " + *scan.unterminated);
  }
  const std::vector<Span> statements = split_statements(sql, scan.tokens);
  if (statements.empty()) {
    throw Error(ErrorCode::invalid_input,
                "the query is empty; send one read-only statement such as SELECT");
  }
  if (statements.size() > 1) {
    throw Error(ErrorCode::forbidden,
                "one statement per query: found " + std::to_string(statements.size()) +
                    " statements separated by ';'; " + std::string(kAllowed),
                {{"statements", statements.size()}});
  }
  const Span span = statements.front();
  const std::vector<Token>& tokens = scan.tokens;
  check_functions(sql, tokens);
  check_leading_keyword(sql, tokens[span.first]);

  std::string body(sql.substr(0, tokens[span.last].end));
  if (is_word(sql, tokens[span.first], "explain")) {
    const std::size_t inner = explained_statement(sql, tokens, span);
    const Token& inner_first = tokens[inner];
    if (is_word(sql, inner_first, "explain")) refuse_statement("EXPLAIN of EXPLAIN");
    check_leading_keyword(sql, inner_first);
    // EXPLAIN ANALYZE runs the explained statement: it must be a query on
    // its own before the whole EXPLAIN is prepared.
    prepare_as(conn, sql.substr(inner_first.begin, tokens[span.last].end - inner_first.begin),
               DUCKDB_STATEMENT_TYPE_SELECT);
    return CheckedStatement{prepare_as(conn, sql, DUCKDB_STATEMENT_TYPE_EXPLAIN),
                            DUCKDB_STATEMENT_TYPE_EXPLAIN, std::move(body)};
  }
  return CheckedStatement{prepare_as(conn, sql, DUCKDB_STATEMENT_TYPE_SELECT),
                          DUCKDB_STATEMENT_TYPE_SELECT, std::move(body)};
}

void check_read_only(duck::Connection& conn, std::string_view sql) {
  prepare_read_only(conn, sql);
}

}  // namespace duckmesh::query
