#include "ingest/dead_letters.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "common/error.hpp"

namespace duckmesh::ingest {

DeadLetters::DeadLetters(bus::IngestBus& bus, commit::Coordinator& coordinator,
                         product::ProductService& products)
    : bus_(bus), coordinator_(coordinator), products_(products) {}

std::vector<bus::DeadLetter> DeadLetters::list(const DeadLetterQuery& query) const {
  products_.require_product(query.product);
  if (query.limit < 1 || query.limit > kMaxPerCall) {
    throw Error(ErrorCode::invalid_input,
                "limit must be from 1 to " + std::to_string(kMaxPerCall) + ", got " +
                    std::to_string(query.limit),
                {{"field", "limit"}, {"minimum", 1}, {"maximum", kMaxPerCall}});
  }
  if (query.table.empty()) return bus_.dead_letters(query.limit, query.product);
  std::vector<bus::DeadLetter> out;
  for (auto& d : bus_.dead_letters(std::numeric_limits<std::size_t>::max(), query.product)) {
    if (d.record.table != query.table) continue;
    out.push_back(std::move(d));
    if (out.size() == query.limit) break;
  }
  return out;
}

ReplayOutcome DeadLetters::replay(const ReplayRequest& request) {
  products_.require_product(request.product);
  const bool by_positions = !request.positions.empty();
  if (by_positions == !request.table.empty()) {
    throw Error(ErrorCode::invalid_input,
                "give exactly one of 'positions' (a non-empty array of dead letters' "
                "positions) and 'table' (replay every dead letter of that table)",
                {{"field", by_positions ? "table" : "positions"}});
  }
  if (request.positions.size() > kMaxPerCall) {
    throw Error(ErrorCode::invalid_input,
                "at most " + std::to_string(kMaxPerCall) + " positions per call, got " +
                    std::to_string(request.positions.size()),
                {{"field", "positions"}, {"maximum", kMaxPerCall}});
  }

  // What to replay, checked whole before anything is published.
  std::map<bus::Position, std::string> tables_of;  // this product's dead letters
  for (const auto& d :
       bus_.dead_letters(std::numeric_limits<std::size_t>::max(), request.product)) {
    tables_of.emplace(d.record.position, d.record.table);
  }
  std::vector<bus::Position> chosen;
  ReplayOutcome outcome;
  if (by_positions) {
    std::set<bus::Position> seen;
    for (const bus::Position p : request.positions) {
      if (!tables_of.count(p)) {
        throw Error(
            ErrorCode::not_found,
            "no dead letter of product '" + request.product + "' at position " + std::to_string(p),
            {{"field", "positions"}, {"position", p}});
      }
      if (seen.insert(p).second) chosen.push_back(p);
    }
  } else {
    for (const auto& [p, table] : tables_of) {
      if (table != request.table) continue;
      if (chosen.size() < kMaxPerCall) {
        chosen.push_back(p);
      } else {
        ++outcome.remaining;
      }
    }
  }
  std::set<std::string> tables;
  for (const bus::Position p : chosen) tables.insert(tables_of.at(p));
  for (const auto& table : tables) {
    try {
      products_.require_table(request.product, table);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
      throw Error(ErrorCode::conflict,
                  "table '" + table + "' of product '" + request.product +
                      "' does not exist: create it again before replaying its events, or they "
                      "would only fail again",
                  {{"table", table}});
    }
  }

  bus::Position newest = 0;
  for (const bus::Position p : chosen) {
    try {
      const bus::Position replayed_as = bus_.replay_dead_letter(p);
      outcome.replayed.push_back({p, replayed_as});
      newest = std::max(newest, replayed_as);
    } catch (const Error& e) {
      // Another replay published it between the check above and here.
      if (e.code() != ErrorCode::not_found) {
        if (!outcome.replayed.empty()) coordinator_.notify_published(outcome.replayed.size());
        throw;
      }
      outcome.already_replayed.push_back(p);
    }
  }
  if (!outcome.replayed.empty()) {
    coordinator_.notify_published(outcome.replayed.size());
    outcome.token = VisibilityToken{request.product, newest};
  }
  return outcome;
}

}  // namespace duckmesh::ingest
