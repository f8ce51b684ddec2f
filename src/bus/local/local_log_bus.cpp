#include "bus/local/local_log_bus.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iterator>
#include <optional>
#include <system_error>
#include <thread>

#include "bus/local/log_format.hpp"
#include "common/error.hpp"
#include "common/fault.hpp"
#include "common/file_io.hpp"

namespace duckmesh::bus {
namespace fs = std::filesystem;
namespace format = local::format;
using fileio::make_dir_durably;
using fileio::open_file;
using fileio::pwrite_all;
using fileio::read_all;
using fileio::read_at;
using fileio::sync_data;
using fileio::sync_dir;
using fileio::sync_file;
using fileio::throw_errno;
using fileio::truncate_durably;
using fileio::UniqueFd;
using local::PositionSet;

namespace {

// Fault point: the leader writes half of a group, syncs it and dies, leaving
// exactly the torn tail recovery must cut off.
constexpr std::string_view kFaultMidAppend = "log_mid_append";
// Fault point: dies after a replayed dead letter is published, before the
// journal records that the dead letter is gone.
constexpr std::string_view kFaultReplayPublished = "log_replay_published";

// Position ranges per settle entry, keeping each frame far below kMaxBodyBytes.
constexpr std::size_t kSettleChunk = 1 << 20;

[[noreturn]] void corrupt(const fs::path& file, std::uint64_t offset, const std::string& why) {
  boost::json::object details;
  details["file"] = file.string();
  details["offset"] = offset;
  throw Error(ErrorCode::internal,
              "corrupt ingest log: " + file.string() + " at offset " + std::to_string(offset) +
                  ": " + why + "; refusing to open rather than skip synced records",
              std::move(details));
}

std::int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LocalLogBusOptions validated(LocalLogBusOptions options) {
  if (options.dir.empty()) {
    throw Error(ErrorCode::invalid_input, "local log bus: dir must be set");
  }
  if (options.segment_bytes == 0) {
    throw Error(ErrorCode::invalid_input, "local log bus: segment_bytes must be positive");
  }
  if (options.max_attempts == 0) {
    throw Error(ErrorCode::invalid_input, "local log bus: max_attempts must be at least 1");
  }
  if (options.group_commit_window.count() < 0) {
    throw Error(ErrorCode::invalid_input,
                "local log bus: group_commit_window must not be negative");
  }
  fs::path dir = fs::absolute(options.dir).lexically_normal();
  if (!dir.has_filename() && dir != dir.root_path()) dir = dir.parent_path();
  options.dir = std::move(dir);
  return options;
}

// Parses "<20 digits>.log"; nullopt for anything else.
std::optional<Position> segment_first_position(const std::string& name) {
  if (name.size() != 24 || !name.ends_with(".log")) return std::nullopt;
  Position p = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const Position digit = static_cast<Position>(c - '0');
    if (p > (UINT64_MAX - digit) / 10) return std::nullopt;
    p = p * 10 + digit;
  }
  return p;
}

// Applies one journal or snapshot entry to the settled/dead state.
void apply_entry(const format::StateEntry& e, PositionSet& settled,
                 std::map<Position, DeadLetter>& dead, const fs::path& file, std::uint64_t offset) {
  switch (e.type) {
    case format::EntryType::settle:
      for (const Position p : e.positions) {
        if (p == 0) corrupt(file, offset, "settle entry names position 0");
        settled.insert(p);
      }
      return;
    case format::EntryType::dead:
      if (e.dead.record.position == 0) corrupt(file, offset, "dead entry names position 0");
      settled.insert(e.dead.record.position);
      dead[e.dead.record.position] = e.dead;
      return;
    case format::EntryType::undead:
      if (e.position == 0) corrupt(file, offset, "undead entry names position 0");
      settled.insert(e.position);
      dead.erase(e.position);
      return;
    case format::EntryType::settled_ranges:
      for (const auto& [first, last] : e.ranges) settled.insert_range(first, last);
      return;
    case format::EntryType::snapshot_header:
    case format::EntryType::snapshot_footer: break;
  }
  corrupt(file, offset, "entry type not allowed here");
}

// Copies an Error so that every publisher of a failed group throws its own
// object (an exception_ptr would be rethrown to many threads at once).
Error as_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Error(ErrorCode::internal, std::string("ingest log write failed: ") + e.what());
  } catch (...) {
    return Error(ErrorCode::internal, "ingest log write failed with an unknown exception");
  }
}

struct SegmentScan {
  std::vector<format::LogRecord> records;  // of complete groups, in order
  std::uint64_t valid_bytes = 0;
  bool truncated = false;
};

// Reads one segment. Only the last segment may end in a torn group, and only
// if nothing after the damage belongs to a later group (which would prove the
// damaged group had been synced); a torn tail is truncated away durably.
SegmentScan scan_segment(const fs::path& path, Position first, bool is_last) {
  UniqueFd fd = open_file(path, is_last ? O_RDWR : O_RDONLY);
  const std::string data = read_all(fd.get(), path);
  const std::string_view view(data);

  SegmentScan out;
  std::vector<format::LogRecord> group;  // records of the group being read
  std::uint64_t group_begin = 0;         // end of the last complete group
  std::uint64_t offset = 0;
  Position expected = first;
  std::optional<std::uint64_t> damaged_at;
  std::string defect;
  while (offset < data.size()) {
    const format::ParsedFrame frame = format::parse_frame(view, offset, format::kSegmentMagic);
    if (!frame.ok) {
      damaged_at = offset;
      defect = frame.defect;
      break;
    }
    std::optional<format::LogRecord> rec = format::decode_record(frame.body);
    if (!rec) corrupt(path, offset, "record with a valid checksum does not decode");
    if (rec->record.position != expected) {
      corrupt(path, offset,
              "record has position " + std::to_string(rec->record.position) + ", expected " +
                  std::to_string(expected));
    }
    if (rec->group_start != group_begin || rec->group_end < frame.next) {
      corrupt(path, offset, "record's group bounds do not match the records before it");
    }
    const std::uint64_t group_end = rec->group_end;
    group.push_back(std::move(*rec));
    ++expected;
    offset = frame.next;
    if (offset == group_end) {
      std::move(group.begin(), group.end(), std::back_inserter(out.records));
      group.clear();
      group_begin = offset;
    }
  }
  out.valid_bytes = group_begin;
  if (!damaged_at && group.empty()) return out;

  const std::uint64_t tail_at = damaged_at.value_or(group_begin);
  if (!is_last) {
    corrupt(path, tail_at,
            damaged_at ? defect : "segment ends inside a group commit, but it is not the last");
  }
  if (damaged_at) {
    for (std::uint64_t p = *damaged_at + 1; p + format::kFrameHeaderBytes <= data.size(); ++p) {
      const format::ParsedFrame later = format::parse_frame(view, p, format::kSegmentMagic);
      if (!later.ok) continue;
      const std::optional<format::LogRecord> rec = format::decode_record(later.body);
      if (rec && rec->group_start != group_begin) {
        corrupt(path, *damaged_at,
                defect + ", followed by an intact record of a later group commit at offset " +
                    std::to_string(p));
      }
    }
  }
  // The torn group was never acknowledged: publish returns only after the
  // whole group is synced, and no later group is written before that.
  truncate_durably(fd.get(), group_begin, path);
  out.truncated = true;
  return out;
}

}  // namespace

LocalLogBus::LocalLogBus(LocalLogBusOptions options)
    : options_(validated(std::move(options))),
      segments_dir_(options_.dir / "segments"),
      journal_path_(options_.dir / "state.log"),
      snapshot_path_(options_.dir / "state.snapshot") {
  recover();
}

LocalLogBus::~LocalLogBus() = default;

fs::path LocalLogBus::segment_path(Position first) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(first));
  return segments_dir_ / name;
}

// ---------------------------------------------------------------- recovery

void LocalLogBus::recover() {
  make_dir_durably(options_.dir);
  make_dir_durably(segments_dir_);

  const fs::path lock_path = options_.dir / "LOCK";
  lock_fd_ = open_file(lock_path, O_RDWR | O_CREAT, 0644);
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      throw Error(ErrorCode::conflict,
                  "ingest log " + options_.dir.string() + " is already open by another bus");
    }
    throw_errno("flock", lock_path, errno);
  }

  std::lock_guard state_lock(state_mu_);
  load_snapshot();
  load_journal();
  scan_segments();

  if (!recovered_replays_.empty()) {
    std::string frames;
    for (const auto& [dead_position, replayed_as] : recovered_replays_) {
      format::append_frame(frames, format::kStateMagic,
                           format::encode_undead(dead_position, replayed_as));
    }
    append_journal(frames);
    recovered_replays_.clear();
  }
  after_settlement();
}

void LocalLogBus::load_snapshot() {
  const fs::path temp = fs::path(snapshot_path_.string() + ".tmp");
  if (::unlink(temp.c_str()) != 0 && errno != ENOENT) throw_errno("unlink", temp, errno);

  const int raw = ::open(snapshot_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT) return;
    throw_errno("open", snapshot_path_, errno);
  }
  UniqueFd fd(raw);
  const std::string data = read_all(fd.get(), snapshot_path_);
  std::uint64_t offset = 0;
  std::uint32_t dead_entries = 0;
  bool header = false, ranges = false, footer = false;
  // The snapshot was synced before it was renamed into place: any defect is
  // corruption, never a torn write.
  while (offset < data.size()) {
    if (footer) corrupt(snapshot_path_, offset, "data after the snapshot footer");
    const format::ParsedFrame frame = format::parse_frame(data, offset, format::kStateMagic);
    if (!frame.ok) corrupt(snapshot_path_, offset, frame.defect);
    const std::optional<format::StateEntry> e = format::decode_state_entry(frame.body);
    if (!e) corrupt(snapshot_path_, offset, "entry does not decode");
    switch (e->type) {
      case format::EntryType::snapshot_header:
        if (header) corrupt(snapshot_path_, offset, "second snapshot header");
        if (e->number != format::kSnapshotVersion) {
          corrupt(snapshot_path_, offset, "unknown snapshot version " + std::to_string(e->number));
        }
        header = true;
        break;
      case format::EntryType::settled_ranges:
        if (!header || ranges) corrupt(snapshot_path_, offset, "misplaced settled ranges");
        ranges = true;
        apply_entry(*e, settled_, dead_, snapshot_path_, offset);
        break;
      case format::EntryType::dead:
        if (!ranges) corrupt(snapshot_path_, offset, "dead letter before the settled ranges");
        ++dead_entries;
        apply_entry(*e, settled_, dead_, snapshot_path_, offset);
        break;
      case format::EntryType::snapshot_footer:
        if (!ranges || e->number != dead_entries) {
          corrupt(snapshot_path_, offset, "snapshot footer does not match its content");
        }
        footer = true;
        break;
      default: corrupt(snapshot_path_, offset, "entry type not allowed in a snapshot");
    }
    offset = frame.next;
  }
  if (!footer) corrupt(snapshot_path_, offset, "snapshot has no footer");
  snapshot_size_ = data.size();
}

void LocalLogBus::load_journal() {
  int raw = ::open(journal_path_.c_str(), O_RDWR | O_CLOEXEC);
  if (raw < 0) {
    if (errno != ENOENT) throw_errno("open", journal_path_, errno);
    journal_fd_ = open_file(journal_path_, O_RDWR | O_CREAT | O_EXCL, 0644);
    sync_dir(options_.dir);
    journal_size_ = 0;
    return;
  }
  journal_fd_ = UniqueFd(raw);
  const std::string data = read_all(journal_fd_.get(), journal_path_);
  const std::string_view view(data);
  std::uint64_t offset = 0;
  while (offset < data.size()) {
    const format::ParsedFrame frame = format::parse_frame(view, offset, format::kStateMagic);
    if (!frame.ok) {
      // Entries are written one at a time, each synced before the next, so
      // only the last one can be torn. An intact entry after the damage
      // proves the damaged one had been synced.
      for (std::uint64_t p = offset + 1; p + format::kFrameHeaderBytes <= data.size(); ++p) {
        if (format::parse_frame(view, p, format::kStateMagic).ok) {
          corrupt(journal_path_, offset,
                  std::string(frame.defect) + ", followed by an intact entry at offset " +
                      std::to_string(p));
        }
      }
      truncate_durably(journal_fd_.get(), offset, journal_path_);
      break;
    }
    const std::optional<format::StateEntry> e = format::decode_state_entry(frame.body);
    if (!e) corrupt(journal_path_, offset, "entry with a valid checksum does not decode");
    apply_entry(*e, settled_, dead_, journal_path_, offset);
    offset = frame.next;
  }
  journal_size_ = offset;
}

void LocalLogBus::scan_segments() {
  std::map<Position, fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(segments_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Other names are not ours (editor backups, a stray copy) and hold no
    // records of this log.
    const std::optional<Position> first = segment_first_position(name);
    if (!first) continue;
    if (*first == 0) corrupt(it->path(), 0, "segment named for position 0");
    files.emplace(*first, it->path());
  }
  if (ec) throw_errno("readdir", segments_dir_, ec.value());

  Position previous_last = 0;
  std::size_t index = 0;
  for (const auto& [first, path] : files) {
    const bool is_last = ++index == files.size();
    if (first <= previous_last) {
      corrupt(path, 0,
              "segment starts at position " + std::to_string(first) +
                  ", which the previous segment already holds");
    }
    SegmentScan scan = scan_segment(path, first, is_last);
    Segment segment{first, first - 1 + scan.records.size(), 0};
    // Runs of unsettled records become blocks; settled ones take no memory.
    std::vector<Record> run;
    Position run_first = 0;
    std::uint64_t run_offset = 0;
    std::uint64_t offset = 0;  // of the record's frame: frames follow each other
    for (format::LogRecord& rec : scan.records) {
      const Position p = rec.record.position;
      const std::uint64_t at = offset;
      offset += format::kFrameHeaderBytes + format::record_body_bytes(rec.record);
      if (rec.replayed_from != 0) recovered_replays_.emplace_back(rec.replayed_from, p);
      if (settled_.contains(p)) {
        if (!run.empty()) add_block_locked(run_first, {std::move(run)}, run_offset);
        run.clear();
        continue;
      }
      ++segment.unsettled;
      if (run.empty()) {
        run_first = p;
        run_offset = at;
      }
      run.push_back(std::move(rec.record));
    }
    if (!run.empty()) add_block_locked(run_first, {std::move(run)}, run_offset);
    segments_.emplace(first, segment);
    previous_last = segment.last;
    if (is_last) {
      active_fd_ = open_file(path, O_WRONLY);
      active_path_ = path;
      active_first_ = first;
      active_size_ = scan.valid_bytes;
    }
  }

  if (segments_.empty()) {
    if (!settled_.empty() || !dead_.empty()) {
      corrupt(
          segments_dir_, 0,
          "no segment files, but the journal settles positions up to " +
              std::to_string(std::max(settled_.max(), dead_.empty() ? 0 : dead_.rbegin()->first)));
    }
    roll_segment(1);
    segments_.emplace(1, Segment{1, 0, 0});
  }
  last_durable_ = segments_.rbegin()->second.last;
  next_position_ = last_durable_ + 1;
  if (settled_.max() > last_durable_) {
    corrupt(journal_path_, 0,
            "journal settles position " + std::to_string(settled_.max()) +
                " beyond the end of the log (" + std::to_string(last_durable_) +
                "): synced records are missing");
  }
  // Settlements of deleted segments are of no use any more.
  settled_.erase_below(segments_.begin()->first);

  // A replayed dead letter whose undead entry did not reach the journal.
  std::erase_if(recovered_replays_,
                [&](const auto& replay) { return dead_.erase(replay.first) == 0; });
}

// ----------------------------------------------------------------- publish

std::vector<Position> LocalLogBus::publish(std::vector<Record> records) {
  return publish_records(std::move(records), 0);
}

std::vector<Position> LocalLogBus::publish_records(std::vector<Record> records,
                                                   Position replayed_from) {
  if (records.empty()) return {};
  const std::int64_t now_us = now_unix_us();
  for (Record& r : records) {
    const std::size_t body = format::record_body_bytes(r);
    if (body > format::kMaxBodyBytes) {
      throw Error(ErrorCode::payload_too_large,
                  "record of " + std::to_string(body) + " bytes exceeds the ingest log limit of " +
                      std::to_string(format::kMaxBodyBytes) + " bytes");
    }
    if (r.ingested_unix_us == 0) r.ingested_unix_us = now_us;
    r.attempts = 0;
  }

  PublishRequest request;
  request.records = &records;
  request.replayed_from = replayed_from;
  const std::size_t count = records.size();

  std::unique_lock lock(mu_);
  if (!publish_failure_.empty()) {
    throw Error(ErrorCode::unavailable,
                "ingest log refuses publishes after a failed write or "
                "sync (" +
                    publish_failure_ + "); reopen it to recover");
  }
  request.first_position = next_position_;
  next_position_ += count;
  for (std::size_t i = 0; i < count; ++i) records[i].position = request.first_position + i;
  queue_.push_back(&request);

  while (!request.done) {
    if (flushing_) {
      flushed_.wait(lock);
      continue;
    }
    // Leader: write everything queued as one group.
    flushing_ = true;
    if (options_.group_commit_window.count() > 0) {
      lock.unlock();
      std::this_thread::sleep_for(options_.group_commit_window);
      lock.lock();
    }
    std::deque<PublishRequest*> batch;
    batch.swap(queue_);
    lock.unlock();

    std::exception_ptr error;
    bool rolled = false;
    std::uint64_t group_offset = 0;
    try {
      group_offset = write_group(batch, rolled);
    } catch (...) {
      error = std::current_exception();
    }

    lock.lock();
    if (!error) {
      try {
        if (rolled) {
          segments_.emplace(active_first_, Segment{active_first_, active_first_ - 1, 0});
        }
        Segment& segment = segments_.rbegin()->second;
        // Requests queue in position order, so the group is one run; the
        // block adopts each publisher's vector of records as it is.
        std::vector<std::vector<Record>> group;
        group.reserve(batch.size());
        for (PublishRequest* r : batch) group.push_back(std::move(*r->records));
        const Position group_first = group.front().front().position;
        segment.last = group.back().back().position;
        segment.unsettled += segment.last - group_first + 1;
        add_block_locked(group_first, std::move(group), group_offset);
        last_durable_ = segment.last;
      } catch (...) {
        // Out of memory while indexing synced records: the index no longer
        // matches the log, so treat it like a failed write.
        error = std::current_exception();
      }
    }
    if (error) {
      // Nothing of this group is acknowledged, and the file's tail (or the
      // index) is now unknown: fail the group and everyone queued behind it.
      const Error failure = as_error(error);
      publish_failure_ = failure.what();
      for (PublishRequest* r : batch) r->error = std::make_exception_ptr(failure);
      for (PublishRequest* r : queue_) {
        r->error = std::make_exception_ptr(failure);
        r->done = true;
      }
      queue_.clear();
    }
    for (PublishRequest* r : batch) r->done = true;
    flushing_ = false;
    flushed_.notify_all();
  }
  lock.unlock();

  if (request.error) {
    // Each publisher has its own copy of the Error (see as_error).
    std::rethrow_exception(request.error);
  }
  std::vector<Position> positions(count);
  for (std::size_t i = 0; i < count; ++i) positions[i] = request.first_position + i;
  return positions;
}

std::uint64_t LocalLogBus::write_group(const std::deque<PublishRequest*>& batch, bool& rolled) {
  const Position first = batch.front()->first_position;
  // Groups never span segments, so every segment but the last ends on a
  // group boundary.
  if (active_size_ >= options_.segment_bytes) {
    roll_segment(first);
    rolled = true;
  }
  std::uint64_t total = 0;
  for (const PublishRequest* r : batch) {
    for (const Record& rec : *r->records) {
      total += format::kFrameHeaderBytes + format::record_body_bytes(rec);
    }
  }
  const std::uint64_t start = active_size_;
  const std::uint64_t end = start + total;
  // The buffer is kept between groups (fresh pages for every group cost more
  // than the encoding), unless a huge group left it large.
  constexpr std::size_t kKeptBufferBytes = 4u << 20;
  if (group_bytes_.capacity() > kKeptBufferBytes) std::string().swap(group_bytes_);
  std::string& bytes = group_bytes_;
  bytes.clear();
  bytes.reserve(total);
  for (const PublishRequest* r : batch) {
    for (const Record& rec : *r->records) {
      bytes.append(format::kFrameHeaderBytes, '\0');
      const std::size_t body_at = bytes.size();
      format::encode_record(bytes, rec, r->replayed_from, start, end);
      format::seal_frame(bytes, body_at, format::kSegmentMagic);
    }
  }
  if (bytes.size() != total) {
    throw Error(ErrorCode::internal, "ingest log encoded a group of " +
                                         std::to_string(bytes.size()) + " bytes, expected " +
                                         std::to_string(total));
  }
  if (fault::armed(kFaultMidAppend)) {
    pwrite_all(active_fd_.get(), std::string_view(bytes).substr(0, bytes.size() / 2), start,
               active_path_);
    sync_data(active_fd_.get(), active_path_);
    fault::crash();
  }
  pwrite_all(active_fd_.get(), bytes, start, active_path_);
  sync_data(active_fd_.get(), active_path_);
  active_size_ = end;
  sync_count_.fetch_add(1, std::memory_order_relaxed);
  return start;
}

void LocalLogBus::roll_segment(Position first) {
  const fs::path path = segment_path(first);
  UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  // The new file's directory entry must be durable before any record in it
  // is acknowledged.
  sync_dir(segments_dir_);
  active_fd_ = std::move(fd);
  active_path_ = path;
  active_first_ = first;
  active_size_ = 0;
}

// ------------------------------------------------------------------ claims

namespace {

// Length-prefixed, so no two (product, table) pairs share a key.
std::string table_key(const Record& record) {
  return std::to_string(record.product.size()) + ':' + record.product + record.table;
}

bool same_table(const Record& a, const Record& b) {
  return a.product == b.product && a.table == b.table;
}

// Sorted, distinct positions as inclusive ranges.
std::vector<std::pair<Position, Position>> to_ranges(const std::vector<Position>& sorted) {
  std::vector<std::pair<Position, Position>> ranges;
  for (const Position p : sorted) {
    if (!ranges.empty() && ranges.back().second + 1 == p) {
      ranges.back().second = p;
    } else {
      ranges.emplace_back(p, p);
    }
  }
  return ranges;
}

}  // namespace

void LocalLogBus::add_block_locked(Position first, std::vector<std::vector<Record>>&& records,
                                   std::uint64_t first_offset) {
  Block block;
  block.records = std::move(records);
  std::size_t count = 0;
  for (const std::vector<Record>& part : block.records) count += part.size();
  block.slots.resize(count);
  std::uint64_t offset = first_offset;
  std::size_t i = 0;
  for (std::vector<Record>& part : block.records) {
    for (Record& record : part) {
      Slot& slot = block.slots[i++];
      slot.record = &record;
      slot.offset = offset;
      slot.frame_bytes =
          static_cast<std::uint32_t>(format::kFrameHeaderBytes + format::record_body_bytes(record));
      offset += slot.frame_bytes;
      slot.state = SlotState::pending;
    }
  }
  block.live = block.pending = count;
  live_count_ += count;
  pending_count_ += count;
  blocks_.emplace_hint(blocks_.end(), first, std::move(block));
  pending_blocks_.insert(pending_blocks_.end(), first);
}

LocalLogBus::Blocks::iterator LocalLogBus::find_block_locked(Position p) {
  const auto it = block_spanning_locked(blocks_.end(), p);
  if (it == blocks_.end() || it->second.slots[p - it->first].state == SlotState::settled) {
    return blocks_.end();
  }
  return it;
}

LocalLogBus::Blocks::iterator LocalLogBus::block_spanning_locked(Blocks::iterator hint,
                                                                 Position p) {
  if (hint != blocks_.end() && p >= hint->first && p - hint->first < hint->second.slots.size()) {
    return hint;
  }
  auto it = blocks_.upper_bound(p);
  if (it == blocks_.begin()) return blocks_.end();
  --it;
  return p - it->first < it->second.slots.size() ? it : blocks_.end();
}

LocalLogBus::Slot* LocalLogBus::find_slot_locked(Position p) {
  const auto it = find_block_locked(p);
  return it == blocks_.end() ? nullptr : &it->second.slots[p - it->first];
}

void LocalLogBus::restore_payload_locked(Position p, Slot& slot, SegmentReader& reader) {
  if (!slot.payload_lent) return;
  auto segment = segments_.upper_bound(p);
  if (segment == segments_.begin()) {
    throw Error(ErrorCode::internal, "ingest log has no segment for position " + std::to_string(p));
  }
  --segment;
  const fs::path path = segment_path(segment->first);
  if (!reader.fd || reader.first != segment->first) {
    reader.fd = open_file(path, O_RDONLY);
    reader.first = segment->first;
  }
  const std::string frame = read_at(reader.fd.get(), slot.offset, slot.frame_bytes, path);
  const format::ParsedFrame parsed = format::parse_frame(frame, 0, format::kSegmentMagic);
  std::optional<format::LogRecord> rec;
  if (parsed.ok && parsed.next == frame.size()) rec = format::decode_record(parsed.body);
  if (!rec || rec->record.position != p) {
    throw Error(ErrorCode::internal,
                "ingest log cannot read back the record at position " + std::to_string(p) +
                    " from " + path.string() + " at offset " + std::to_string(slot.offset) + ": " +
                    (!parsed.ok                    ? parsed.defect
                     : parsed.next != frame.size() ? "the frame has another length"
                     : rec                         ? "it holds another position"
                                                   : "it does not decode"));
  }
  slot.record->payload = std::move(rec->record.payload);
  slot.payload_lent = false;
}

std::optional<std::uint32_t> LocalLogBus::known_consumer_locked(const std::string& consumer) const {
  const auto it = std::find(consumers_.begin(), consumers_.end(), consumer);
  if (it == consumers_.end()) return std::nullopt;
  return static_cast<std::uint32_t>(it - consumers_.begin());
}

std::uint32_t LocalLogBus::consumer_id_locked(const std::string& consumer) {
  const auto it = std::find(consumers_.begin(), consumers_.end(), consumer);
  if (it != consumers_.end()) return static_cast<std::uint32_t>(it - consumers_.begin());
  consumers_.push_back(consumer);
  return static_cast<std::uint32_t>(consumers_.size() - 1);
}

std::vector<Record> LocalLogBus::claim_batch(const std::string& consumer, std::size_t limit,
                                             std::chrono::milliseconds lease) {
  std::vector<Record> out;
  claim_batch_into(consumer, limit, lease, out);
  return out;
}

void LocalLogBus::claim_batch_into(const std::string& consumer, std::size_t limit,
                                   std::chrono::milliseconds lease, std::vector<Record>& out) {
  out.clear();
  if (consumer.empty()) throw Error(ErrorCode::invalid_input, "claim_batch: consumer is empty");
  if (lease.count() < 0) throw Error(ErrorCode::invalid_input, "claim_batch: negative lease");
  // Copying a large batch takes a while; the lock is let go between blocks
  // once kClaimChunk records are copied, so publishers can index meanwhile.
  constexpr std::size_t kClaimChunk = 8192;
  std::vector<std::pair<Position, Position>> leased;  // ranges, for the lease entry
  std::unique_lock lock(mu_);
  const Clock::time_point now = Clock::now();
  requeue_expired_locked(now);
  const Clock::time_point deadline = now + lease;
  const std::uint32_t me = consumer_id_locked(consumer);
  out.reserve(std::min(limit, pending_count_));
  Position resume = 0;  // blocks below it were looked at
  std::size_t copied_since_unlock = 0;
  std::exception_ptr restore_error;  // a lent payload that could not be read back
  SegmentReader segment_reader;
  while (out.size() < limit && !restore_error) {
    auto it = pending_blocks_.lower_bound(resume);
    if (it == pending_blocks_.end()) break;
    const Position first = *it;
    Block& block = blocks_.at(first);
    // Records come in runs of one table: look its hold up once per run.
    const Record* run = nullptr;
    bool run_blocked = false;
    Hold* run_hold = nullptr;
    std::optional<std::size_t> first_skipped;
    std::size_t i = block.first_pending;
    for (; i < block.slots.size() && out.size() < limit; ++i) {
      Slot& slot = block.slots[i];
      if (slot.state != SlotState::pending) continue;
      if (run == nullptr || !same_table(*run, *slot.record)) {
        run = slot.record;
        const Hold* hold = hold_of_locked(*slot.record);
        run_blocked = hold != nullptr && hold->consumer != consumer;
        run_hold = nullptr;
      }
      if (run_blocked) {  // another consumer writes this table
        if (!first_skipped) first_skipped = i;
        continue;
      }
      if (slot.payload_lent) {
        // Delivered before and returned: its payload is read back first.
        try {
          restore_payload_locked(first + i, slot, segment_reader);
        } catch (...) {
          restore_error = std::current_exception();
          break;
        }
      }
      if (run_hold == nullptr) {
        run_hold = &holds_[table_key(*slot.record)];
        run_hold->consumer = consumer;
      }
      ++run_hold->leased;
      slot.state = SlotState::leased;
      slot.consumer = me;
      slot.deadline = deadline;
      ++slot.record->attempts;
      --block.pending;
      --pending_count_;
      const Position p = first + i;
      if (!leased.empty() && leased.back().second + 1 == p) {
        leased.back().second = p;
      } else {
        leased.emplace_back(p, p);
      }
      // The payload is lent, not copied: the consumer gets the only copy in
      // memory until the record is returned (see restore_payload_locked).
      Record& lent = out.emplace_back();
      lent.position = p;
      lent.product = slot.record->product;
      lent.table = slot.record->table;
      lent.idempotency_key = slot.record->idempotency_key;
      lent.payload = std::move(slot.record->payload);
      lent.ingested_unix_us = slot.record->ingested_unix_us;
      lent.attempts = slot.record->attempts;
      slot.payload_lent = true;
      ++copied_since_unlock;
    }
    block.first_pending = first_skipped.value_or(i);
    if (block.pending == 0) pending_blocks_.erase(first);
    resume = first + 1;
    if (copied_since_unlock >= kClaimChunk && out.size() < limit) {
      // The leases taken so far must be on record before others run.
      leases_.emplace(deadline, std::move(leased));
      leased.clear();
      copied_since_unlock = 0;
      lock.unlock();
      lock.lock();
    }
  }
  if (!leased.empty()) leases_.emplace(deadline, std::move(leased));
  // What was claimed before the failed read is delivered; the next claim
  // meets the failure first and reports it.
  if (restore_error && out.empty()) std::rethrow_exception(restore_error);
}

LocalLogBus::Hold* LocalLogBus::hold_of_locked(const Record& record) {
  const auto it = holds_.find(table_key(record));
  return it == holds_.end() ? nullptr : &it->second;
}

void LocalLogBus::unhold_locked(const Record& record, std::size_t count) {
  const auto it = holds_.find(table_key(record));
  if (it == holds_.end()) return;
  it->second.leased -= std::min(count, it->second.leased);
  if (it->second.leased == 0) holds_.erase(it);
}

void LocalLogBus::extend_lease(const std::string& consumer, const std::vector<Position>& positions,
                               std::chrono::milliseconds lease) {
  if (lease.count() < 0) throw Error(ErrorCode::invalid_input, "extend_lease: negative lease");
  std::lock_guard lock(mu_);
  const Clock::time_point deadline = Clock::now() + lease;
  const std::optional<std::uint32_t> me = known_consumer_locked(consumer);
  if (!me) return;  // never claimed anything
  std::vector<Position> extended;
  for (const Position p : positions) {
    Slot* slot = find_slot_locked(p);
    if (slot == nullptr || slot->state != SlotState::leased || slot->consumer != *me) continue;
    // The entry of its old deadline no longer matches it and skips it.
    slot->deadline = deadline;
    extended.push_back(p);
  }
  if (extended.empty()) return;
  std::sort(extended.begin(), extended.end());
  extended.erase(std::unique(extended.begin(), extended.end()), extended.end());
  leases_.emplace(deadline, to_ranges(extended));
}

std::size_t LocalLogBus::requeue_expired() {
  std::lock_guard lock(mu_);
  return requeue_expired_locked(Clock::now());
}

std::size_t LocalLogBus::requeue_expired_locked(Clock::time_point now) {
  std::size_t requeued = 0;
  // Records whose ack is being journaled: settled or back in a moment; their
  // entry is kept so a failed ack still expires.
  std::map<Clock::time_point, std::vector<Position>> settling;
  for (auto entry = leases_.begin(); entry != leases_.end() && entry->first <= now;) {
    for (const auto& [lo, hi] : entry->second) {
      // Walk the blocks overlapping [lo, hi]; settled records left no block.
      auto block_it = blocks_.upper_bound(lo);
      if (block_it != blocks_.begin()) --block_it;
      for (; block_it != blocks_.end() && block_it->first <= hi; ++block_it) {
        Block& block = block_it->second;
        const Position begin = std::max(lo, block_it->first);
        const Position end = std::min(hi, block_it->first + block.slots.size() - 1);
        for (Position p = begin; p <= end; ++p) {
          Slot& slot = block.slots[p - block_it->first];
          if (slot.state != SlotState::leased || slot.deadline != entry->first) continue;
          if (slot.settling) {
            settling[entry->first].push_back(p);
            continue;
          }
          return_to_pending(block, p - block_it->first);
          ++requeued;
        }
      }
    }
    entry = leases_.erase(entry);
  }
  for (auto& [deadline, positions] : settling) {
    std::sort(positions.begin(), positions.end());
    leases_.emplace(deadline, to_ranges(positions));
  }
  return requeued;
}

// ------------------------------------------------------------- settlements

std::vector<Position> LocalLogBus::reserve_locked(const std::string& consumer,
                                                  const std::vector<Position>& positions) {
  std::vector<Position> reserved;
  reserved.reserve(positions.size());
  const std::optional<std::uint32_t> me = known_consumer_locked(consumer);
  if (!me) return reserved;  // never claimed anything
  auto block_it = blocks_.end();
  for (const Position p : positions) {
    block_it = block_spanning_locked(block_it, p);
    if (block_it == blocks_.end()) continue;
    Slot& slot = block_it->second.slots[p - block_it->first];
    if (slot.state != SlotState::leased || slot.settling || slot.consumer != *me) continue;
    slot.settling = true;
    reserved.push_back(p);
  }
  // Acks mostly come in position order already.
  if (!std::is_sorted(reserved.begin(), reserved.end()))
    std::sort(reserved.begin(), reserved.end());
  return reserved;
}

void LocalLogBus::ack(const std::string& consumer, const std::vector<Position>& positions) {
  std::lock_guard state_lock(state_mu_);
  throw_if_journal_failed();
  std::vector<Position> reserved;
  {
    std::lock_guard lock(mu_);
    reserved = reserve_locked(consumer, positions);
  }
  settle(reserved, Settlement::ack, "");
}

void LocalLogBus::dead_letter(const std::string& consumer, const std::vector<Position>& positions,
                              const std::string& reason) {
  std::lock_guard state_lock(state_mu_);
  throw_if_journal_failed();
  std::vector<Position> reserved;
  {
    std::lock_guard lock(mu_);
    reserved = reserve_locked(consumer, positions);
  }
  settle(reserved, Settlement::dead, reason);
}

void LocalLogBus::release(const std::string& consumer, const std::vector<Position>& positions) {
  std::lock_guard state_lock(state_mu_);
  throw_if_journal_failed();
  std::lock_guard lock(mu_);
  const std::optional<std::uint32_t> me = known_consumer_locked(consumer);
  if (!me) return;  // never claimed anything
  for (const Position p : positions) {
    const auto it = find_block_locked(p);
    if (it == blocks_.end()) continue;
    Slot& slot = it->second.slots[p - it->first];
    if (slot.state != SlotState::leased || slot.settling || slot.consumer != *me) continue;
    if (slot.record->attempts > 0) --slot.record->attempts;  // this delivery does not count
    return_to_pending(it->second, p - it->first);
  }
}

void LocalLogBus::return_to_pending(Block& block, std::size_t index) {
  // Its lease entry no longer matches it once it is pending.
  Slot& slot = block.slots[index];
  slot.state = SlotState::pending;
  unhold_locked(*slot.record);
  if (block.pending++ == 0) pending_blocks_.insert(slot.record->position - index);
  block.first_pending = std::min(block.first_pending, index);
  ++pending_count_;
}

void LocalLogBus::nack(const std::string& consumer, const std::vector<Position>& positions,
                       const std::string& reason) {
  std::lock_guard state_lock(state_mu_);
  throw_if_journal_failed();
  std::vector<Position> exhausted;
  {
    std::lock_guard lock(mu_);
    const std::optional<std::uint32_t> me = known_consumer_locked(consumer);
    if (!me) return;  // never claimed anything
    for (const Position p : positions) {
      const auto it = find_block_locked(p);
      if (it == blocks_.end()) continue;
      Slot& slot = it->second.slots[p - it->first];
      if (slot.state != SlotState::leased || slot.settling || slot.consumer != *me) continue;
      if (slot.record->attempts >= options_.max_attempts) {
        slot.settling = true;
        exhausted.push_back(p);
        continue;
      }
      return_to_pending(it->second, p - it->first);
    }
  }
  std::sort(exhausted.begin(), exhausted.end());
  settle(exhausted, Settlement::dead, reason);
}

void LocalLogBus::settle(const std::vector<Position>& reserved, Settlement how,
                         const std::string& reason) {
  if (reserved.empty()) return;
  const auto ranges = to_ranges(reserved);
  std::string frames;
  std::vector<DeadLetter> dead;
  if (how == Settlement::ack) {
    // Acks come in long runs of positions: journaled as ranges.
    for (std::size_t i = 0; i < ranges.size(); i += kSettleChunk) {
      const std::vector<std::pair<Position, Position>> chunk(
          ranges.begin() + static_cast<std::ptrdiff_t>(i),
          ranges.begin() + static_cast<std::ptrdiff_t>(std::min(ranges.size(), i + kSettleChunk)));
      format::append_frame(frames, format::kStateMagic, format::encode_settled_ranges(chunk));
    }
  } else {
    std::lock_guard lock(mu_);
    const std::int64_t now_us = now_unix_us();
    try {
      SegmentReader segment_reader;
      for (const Position p : reserved) {
        Slot& slot = *find_slot_locked(p);
        restore_payload_locked(p, slot, segment_reader);  // the journal keeps the whole record
        DeadLetter d;
        d.record = *slot.record;
        // Kept in memory for as long as the dead letter is: not a slice
        // that would keep its whole request's payloads alive.
        d.record.payload.own();
        d.reason = reason;
        d.dead_unix_us = now_us;
        format::append_frame(frames, format::kStateMagic, format::encode_dead(d));
        dead.push_back(std::move(d));
      }
    } catch (...) {
      for (const Position p : reserved) find_slot_locked(p)->settling = false;
      throw;
    }
  }
  try {
    append_journal(frames);
  } catch (...) {
    std::lock_guard lock(mu_);
    for (const Position p : reserved) find_slot_locked(p)->settling = false;
    throw;
  }
  {
    std::lock_guard lock(mu_);
    for (DeadLetter& d : dead) dead_[d.record.position] = std::move(d);
    for (const auto& [lo, hi] : ranges) settled_.insert_range(lo, hi);
    forget_slots_locked(reserved);
  }
  after_settlement();
}

void LocalLogBus::forget_slots_locked(const std::vector<Position>& positions) {
  // Holds and segment counts are updated once per run of one table or
  // segment, not per record.
  std::string run_product, run_table;
  std::size_t run_leased = 0;
  auto flush_run = [&] {
    if (run_leased == 0) return;
    Record key;
    key.product = run_product;
    key.table = run_table;
    unhold_locked(key, run_leased);
    run_leased = 0;
  };
  auto segment = segments_.end();
  auto it = blocks_.end();
  for (const Position p : positions) {
    it = block_spanning_locked(it, p);
    if (it == blocks_.end() || it->second.slots[p - it->first].state == SlotState::settled) {
      continue;
    }
    const Position first = it->first;
    Block& block = it->second;
    Slot& slot = block.slots[p - first];
    if (slot.state == SlotState::leased) {
      if (run_leased > 0 &&
          (run_product != slot.record->product || run_table != slot.record->table)) {
        flush_run();
      }
      if (run_leased == 0) {
        run_product = slot.record->product;
        run_table = slot.record->table;
      }
      ++run_leased;
    } else if (--block.pending == 0) {
      pending_blocks_.erase(first);
    }
    if (slot.state == SlotState::pending) --pending_count_;
    if (segment == segments_.end() || p < segment->first ||
        (std::next(segment) != segments_.end() && p >= std::next(segment)->first)) {
      segment = segments_.upper_bound(p);
      segment = segment == segments_.begin() ? segments_.end() : std::prev(segment);
    }
    if (segment != segments_.end() && segment->second.unsettled > 0) --segment->second.unsettled;
    --live_count_;
    if (--block.live == 0) {
      pending_blocks_.erase(first);
      it = blocks_.erase(it);
      continue;
    }
    slot.state = SlotState::settled;
    slot.settling = false;
    *slot.record = Record{};
  }
  flush_run();
}

void LocalLogBus::append_journal(const std::string& frames) {
  throw_if_journal_failed();
  try {
    pwrite_all(journal_fd_.get(), frames, journal_size_, journal_path_);
    sync_data(journal_fd_.get(), journal_path_);
  } catch (const Error& e) {
    journal_failure_ = e.what();
    throw;
  }
  journal_size_ += frames.size();
}

void LocalLogBus::throw_if_journal_failed() const {
  if (!journal_failure_.empty()) {
    throw Error(ErrorCode::unavailable,
                "ingest log refuses acks and dead letters after a failed "
                "journal write or sync (" +
                    journal_failure_ + "); reopen it to recover");
  }
}

void LocalLogBus::after_settlement() {
  delete_settled_segments();
  maybe_compact();
}

void LocalLogBus::delete_settled_segments() {
  std::vector<Position> doomed;
  {
    std::lock_guard lock(mu_);
    if (segments_.size() < 2) return;
    // The last segment is being appended to and always stays.
    for (auto it = segments_.begin(); it != std::prev(segments_.end()); ++it) {
      if (it->second.unsettled == 0) doomed.push_back(it->first);
    }
  }
  if (doomed.empty()) return;
  // Their acks and dead letters are already durable in the journal, so losing
  // the files loses nothing; a crash before the unlink is durable just leaves
  // them for the next open to delete.
  for (const Position first : doomed) {
    const fs::path path = segment_path(first);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("unlink", path, errno);
  }
  sync_dir(segments_dir_);
  std::lock_guard lock(mu_);
  for (const Position first : doomed) segments_.erase(first);
  settled_.erase_below(segments_.begin()->first);
}

void LocalLogBus::maybe_compact() {
  if (!journal_failure_.empty()) return;
  if (journal_size_ < std::max(options_.state_compact_bytes, 2 * snapshot_size_)) return;

  std::string bytes;
  {
    std::lock_guard lock(mu_);
    format::append_frame(bytes, format::kStateMagic, format::encode_snapshot_header());
    const std::vector<std::pair<Position, Position>> ranges(settled_.ranges().begin(),
                                                            settled_.ranges().end());
    format::append_frame(bytes, format::kStateMagic, format::encode_settled_ranges(ranges));
    for (const auto& [position, d] : dead_) {
      format::append_frame(bytes, format::kStateMagic, format::encode_dead(d));
    }
    format::append_frame(bytes, format::kStateMagic,
                         format::encode_snapshot_footer(static_cast<std::uint32_t>(dead_.size())));
  }

  // Until the rename the old snapshot plus the whole journal stay the truth;
  // after it the new snapshot alone is, and the journal's entries, replayed
  // on top, change nothing (each entry's effect is idempotent and the
  // snapshot already reflects all of them), so a crash before the truncation
  // below is harmless.
  const fs::path temp = fs::path(snapshot_path_.string() + ".tmp");
  {
    UniqueFd fd = open_file(temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pwrite_all(fd.get(), bytes, 0, temp);
    sync_file(fd.get(), temp);
  }
  if (::rename(temp.c_str(), snapshot_path_.c_str()) != 0) {
    throw_errno("rename", snapshot_path_, errno);
  }
  sync_dir(options_.dir);
  try {
    truncate_durably(journal_fd_.get(), 0, journal_path_);
  } catch (const Error& e) {
    // New entries would be written at offset 0 over an old tail that may
    // survive a crash: stop journaling.
    journal_failure_ = e.what();
    throw;
  }
  journal_size_ = 0;
  snapshot_size_ = bytes.size();
}

// ------------------------------------------------------------- dead letters

std::vector<DeadLetter> LocalLogBus::dead_letters(std::size_t limit,
                                                  const std::string& product) const {
  std::vector<DeadLetter> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [position, d] : dead_) {
      if (product.empty() || d.record.product == product) out.push_back(d);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const DeadLetter& a, const DeadLetter& b) {
    return a.dead_unix_us < b.dead_unix_us;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Position LocalLogBus::replay_dead_letter(Position position) {
  std::lock_guard state_lock(state_mu_);
  throw_if_journal_failed();
  Record record;
  {
    std::lock_guard lock(mu_);
    const auto it = dead_.find(position);
    if (it == dead_.end()) {
      boost::json::object details;
      details["position"] = position;
      throw Error(ErrorCode::not_found, "no dead letter at position " + std::to_string(position),
                  std::move(details));
    }
    record = it->second.record;
  }
  // The original ingest time is kept: it is when the event arrived.
  record.position = 0;
  record.attempts = 0;
  std::vector<Record> records;
  records.push_back(std::move(record));
  // The published record names `position` as its origin, so from here on the
  // replay survives a crash even before the journal hears of it.
  const Position replayed_as = publish_records(std::move(records), position).front();
  fault::maybe_crash(kFaultReplayPublished);
  {
    std::lock_guard lock(mu_);
    dead_.erase(position);
  }
  std::string frame;
  format::append_frame(frame, format::kStateMagic, format::encode_undead(position, replayed_as));
  try {
    append_journal(frame);
  } catch (const Error& e) {
    throw Error(ErrorCode::unavailable, "dead letter " + std::to_string(position) +
                                            " was replayed as position " +
                                            std::to_string(replayed_as) +
                                            " (durable), but the journal failed: " + e.what());
  }
  after_settlement();
  return replayed_as;
}

void LocalLogBus::leave(const std::string& /*consumer*/) {}

Position LocalLogBus::last_position() const {
  std::lock_guard lock(mu_);
  return last_durable_;
}

BusStats LocalLogBus::stats() const {
  std::lock_guard lock(mu_);
  BusStats s;
  s.last_position = last_durable_;
  s.pending = pending_count_;
  s.in_flight = live_count_ - pending_count_;
  s.dead_letters = dead_.size();
  return s;
}

}  // namespace duckmesh::bus
