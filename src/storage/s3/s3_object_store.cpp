#include "storage/s3/s3_object_store.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <random>
#include <thread>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "obs/log.hpp"

namespace duckmesh::storage {

namespace fs = std::filesystem;

namespace {

std::string amz_date_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::int64_t to_unix_ms(int year, unsigned month, unsigned day, int h, int m, int s) {
  return ((calendar::days_from_civil(year, month, day) * 24 + h) * 60 + m) * 60'000LL + s * 1000LL;
}

// "2026-12-03T10:00:00.000Z" (ListObjectsV2); 0 when unreadable.
std::int64_t parse_iso_ms(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6) return 0;
  return to_unix_ms(y, static_cast<unsigned>(mo), static_cast<unsigned>(d), h, mi, se);
}

// "Thu, 03 Dec 2026 10:00:00 GMT" (Last-Modified); 0 when unreadable.
std::int64_t parse_http_date_ms(const std::string& s) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char wday[8] = {}, mon[8] = {};
  int d = 0, y = 0, h = 0, mi = 0, se = 0;
  if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d", wday, &d, mon, &y, &h, &mi, &se) != 7)
    return 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (std::string_view(mon) == months[i])
      return to_unix_ms(y, i + 1, static_cast<unsigned>(d), h, mi, se);
  }
  return 0;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    auto end = s.find(';', i);
    if (end == std::string_view::npos) {
      out += s[i];
      continue;
    }
    auto entity = s.substr(i + 1, end - i - 1);
    if (entity == "amp")
      out += '&';
    else if (entity == "lt")
      out += '<';
    else if (entity == "gt")
      out += '>';
    else if (entity == "quot")
      out += '"';
    else if (entity == "apos")
      out += '\'';
    else if (!entity.empty() && entity[0] == '#') {
      long code = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X')
                      ? std::strtol(std::string(entity.substr(2)).c_str(), nullptr, 16)
                      : std::strtol(std::string(entity.substr(1)).c_str(), nullptr, 10);
      if (code < 0x80)
        out += static_cast<char>(code);
      else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
      } else {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
      }
    } else {
      out.append(s.substr(i, end - i + 1));
    }
    i = end;
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// The text of the first <tag>...</tag> in `xml` at or after `from`.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag,
                                    std::size_t from = 0) {
  std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  auto a = xml.find(open, from);
  if (a == std::string_view::npos) return std::nullopt;
  a += open.size();
  auto b = xml.find(close, a);
  if (b == std::string_view::npos) return std::nullopt;
  return xml_unescape(xml.substr(a, b - a));
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = std::string(value);
  }
  return size * n;
}

struct Upload {
  std::string_view data;
  std::size_t at = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  std::size_t len = std::min(size * n, up->data.size() - up->at);
  std::memcpy(buffer, up->data.data() + up->at, len);
  up->at += len;
  return len;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

// Idle easy handles, kept so their connections are reused.
struct S3ObjectStore::HandlePool {
  std::mutex mu;
  std::vector<CURL*> idle;
  ~HandlePool() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }
  CURL* take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    CURL* h = curl_easy_init();
    if (!h) throw Error(ErrorCode::internal, "curl_easy_init failed");
    return h;
  }
  void give(CURL* h) {
    std::lock_guard lock(mu);
    idle.push_back(h);
  }
};

S3ObjectStore::S3ObjectStore(S3Options options)
    : options_(std::move(options)), pool_(std::make_unique<HandlePool>()) {
  static CurlGlobal global;
  auto scheme_end = options_.endpoint.find("://");
  if (scheme_end == std::string::npos) {
    throw Error(ErrorCode::invalid_input,
                "s3 endpoint '" + options_.endpoint + "' must look like http://host[:port]");
  }
  scheme_ = options_.endpoint.substr(0, scheme_end);
  host_ = options_.endpoint.substr(scheme_end + 3);
  while (!host_.empty() && host_.back() == '/') host_.pop_back();
  if ((scheme_ != "http" && scheme_ != "https") || host_.empty() ||
      host_.find('/') != std::string::npos) {
    throw Error(ErrorCode::invalid_input,
                "s3 endpoint '" + options_.endpoint + "' must look like http(s)://host[:port]");
  }
  if (options_.bucket.empty()) throw Error(ErrorCode::invalid_input, "s3 bucket is empty");
  if (options_.credentials.access_key.empty() || options_.credentials.secret_key.empty()) {
    throw Error(ErrorCode::invalid_input, "s3 access key and secret key are required");
  }
  if (options_.cache_dir.empty()) {
    throw Error(ErrorCode::invalid_input, "s3 store needs a local cache directory");
  }
  if (options_.part_size < kMinPartSize || options_.part_size > kMaxPartSize) {
    throw Error(ErrorCode::invalid_input,
                "s3 part size " + std::to_string(options_.part_size) +
                    " is outside S3's bounds: 5 MiB (5242880) to 5 GiB (5368709120) bytes");
  }
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  fs::create_directories(options_.cache_dir / "objects");
  fs::create_directories(options_.cache_dir / ".tmp");
  // Copies left from an earlier run count toward the cache.
  for (auto& entry : fs::recursive_directory_iterator(options_.cache_dir / "objects")) {
    if (!entry.is_regular_file()) continue;
    auto key = fs::relative(entry.path(), options_.cache_dir / "objects").generic_string();
    remember_cached(key, entry.file_size());
  }
}

S3ObjectStore::~S3ObjectStore() = default;

std::string S3ObjectStore::object_name(const std::string& key) const {
  return options_.prefix.empty() ? key : options_.prefix + "/" + key;
}

S3ObjectStore::Response S3ObjectStore::send(
    const std::string& method, const std::string& object,
    const std::map<std::string, std::string>& query, std::string_view body,
    const std::map<std::string, std::string>& extra_headers) const {
  std::string host = options_.path_style ? host_ : options_.bucket + "." + host_;
  std::string path = options_.path_style ? "/" + options_.bucket + "/" : "/";
  path += s3::uri_encode(object, true);
  std::string qs = s3::canonical_query(query);
  std::string url = scheme_ + "://" + host + path + (qs.empty() ? "" : "?" + qs);
  std::string payload_hash = s3::sha256_hex(body);

  std::mt19937_64 rng(std::random_device{}());
  std::string last_cause;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      // Exponential backoff with full jitter.
      auto cap = options_.base_backoff.count() << std::min(attempt - 2, 10);
      std::uniform_int_distribution<long> pick(0, std::max<long>(1, cap));
      std::this_thread::sleep_for(std::chrono::milliseconds(pick(rng)));
    }
    s3::SignedRequest signed_request;
    signed_request.method = method;
    signed_request.canonical_uri = path;
    signed_request.query = query;
    signed_request.payload_sha256 = payload_hash;
    std::string amz_date = amz_date_now();
    signed_request.headers = {
        {"host", host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", amz_date}};
    if (!options_.credentials.session_token.empty())
      signed_request.headers["x-amz-security-token"] = options_.credentials.session_token;
    for (const auto& [k, v] : extra_headers) signed_request.headers[k] = v;
    std::string auth =
        s3::authorization(signed_request, options_.credentials, options_.region, amz_date);

    CURL* h = pool_->take();
    struct Give {
      HandlePool& pool;
      CURL* h;
      ~Give() { pool.give(h); }
    } give{*pool_, h};
    curl_easy_reset(h);
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : signed_request.headers) {
      if (k == "host") continue;
      headers = curl_slist_append(headers, (k + ": " + v).c_str());
    }
    headers = curl_slist_append(headers, ("Authorization: " + auth).c_str());
    headers = curl_slist_append(headers, "Expect:");
    struct FreeHeaders {
      curl_slist* l;
      ~FreeHeaders() { curl_slist_free_all(l); }
    } free_headers{headers};
    Response response;
    Upload upload{body, 0};
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &upload);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (method == "POST") {
      // Always with a body, if empty, so Content-Length is sent.
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
      if (!body.empty()) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      }
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      last_cause = curl_easy_strerror(rc);
      continue;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    if (response.status == 429 || response.status >= 500) {
      last_cause = "HTTP " + std::to_string(response.status);
      if (auto message = xml_text(response.body, "Message")) last_cause += ": " + *message;
      continue;
    }
    return response;
  }
  throw Error(ErrorCode::unavailable,
              "object store did not answer " + method + " " + path + " after " +
                  std::to_string(options_.max_attempts) + " attempts: " + last_cause,
              {{"attempts", options_.max_attempts}});
}

namespace {
[[noreturn]] void throw_s3(const std::string& what, const S3ObjectStore::Response& r) {
  std::string code = xml_text(r.body, "Code").value_or("");
  std::string message = xml_text(r.body, "Message").value_or(r.body.substr(0, 200));
  throw Error(ErrorCode::internal, what + " failed: HTTP " + std::to_string(r.status) + " " + code +
                                       (message.empty() ? "" : ": " + message));
}
}  // namespace

namespace {
[[noreturn]] void throw_exists(const std::string& key) {
  throw Error(ErrorCode::conflict, "object '" + key + "' already exists");
}
}  // namespace

void S3ObjectStore::put_object(const std::string& key, std::string_view bytes) {
  check_key(key);
  if (stat(key)) throw_exists(key);
  if (bytes.size() > options_.multipart_threshold) {
    put_multipart(key, bytes.size(),
                  [bytes](std::uint64_t offset, std::size_t length, std::string& into) {
                    into.assign(bytes.substr(offset, length));
                  });
    return;
  }
  auto r = send("PUT", object_name(key), {}, bytes,
                {{"if-none-match", "*"}, {"content-md5", s3::base64(s3::md5(bytes))}});
  if (r.status == 412) throw_exists(key);
  if (r.status != 200) throw_s3("PUT " + key, r);
}

void S3ObjectStore::put_multipart(const std::string& key, std::uint64_t size,
                                  const PartReader& read) {
  const std::string name = object_name(key);
  // S3 allows 10,000 parts: larger objects get larger parts.
  const std::uint64_t part_size = std::max(options_.part_size, (size + 9'999) / 10'000);
  auto started = send("POST", name, {{"uploads", ""}}, {}, {});
  if (started.status != 200) throw_s3("starting the multipart upload of " + key, started);
  const auto upload_id = xml_text(started.body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    throw Error(ErrorCode::internal,
                "starting the multipart upload of " + key + ": the answer names no UploadId");
  }
  try {
    std::string parts_xml;
    std::string part;
    int number = 1;
    for (std::uint64_t offset = 0; offset < size; offset += part_size, ++number) {
      const auto length = static_cast<std::size_t>(std::min(part_size, size - offset));
      read(offset, length, part);
      if (part.size() != length) {
        throw Error(ErrorCode::internal, "multipart upload of " + key + ": read " +
                                             std::to_string(part.size()) + " bytes of part " +
                                             std::to_string(number) + ", expected " +
                                             std::to_string(length));
      }
      auto r = send("PUT", name, {{"partNumber", std::to_string(number)}, {"uploadId", *upload_id}},
                    part, {{"content-md5", s3::base64(s3::md5(part))}});
      if (r.status != 200) throw_s3("PUT part " + std::to_string(number) + " of " + key, r);
      auto etag = r.headers.find("etag");
      if (etag == r.headers.end() || etag->second.empty()) {
        throw Error(ErrorCode::internal, "PUT part " + std::to_string(number) + " of " + key +
                                             ": the answer has no ETag");
      }
      parts_xml += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
                   xml_escape(etag->second) + "</ETag></Part>";
    }
    const std::string body = "<CompleteMultipartUpload>" + parts_xml + "</CompleteMultipartUpload>";
    auto done = send("POST", name, {{"uploadId", *upload_id}}, body,
                     {{"if-none-match", "*"}, {"content-type", "application/xml"}});
    if (done.status == 412) throw_exists(key);
    if (done.status == 404 && xml_text(done.body, "Code") == "NoSuchUpload") {
      // A retried completion whose first try went through finds the upload
      // gone; the size check below tells whether the object is ours.
    } else if (done.status != 200) {
      throw_s3("completing the multipart upload of " + key, done);
    } else if (done.body.find("<Error>") != std::string::npos) {
      // S3 may answer 200 and report a failure in the body.
      throw Error(ErrorCode::unavailable,
                  "completing the multipart upload of " + key + " failed: " +
                      xml_text(done.body, "Message").value_or(done.body.substr(0, 200)));
    }
  } catch (...) {
    try {
      auto aborted = send("DELETE", name, {{"uploadId", *upload_id}}, {}, {});
      if (aborted.status != 204 && aborted.status != 200 && aborted.status != 404) {
        log::warn(
            "the server refused to abort a multipart upload; its lifecycle rules must "
            "clean it",
            {{"key", key}, {"status", aborted.status}});
      }
    } catch (const std::exception& e) {
      log::warn("aborting a multipart upload failed; the server's lifecycle rules must clean it",
                {{"key", key}, {"error", e.what()}});
    }
    throw;
  }
  auto info = stat(key);
  if (!info || info->size != size) {
    throw Error(ErrorCode::internal,
                "multipart upload of " + key + ": the stored object has " +
                    (info ? std::to_string(info->size) + " bytes" : std::string("vanished")) +
                    ", expected " + std::to_string(size));
  }
}

void S3ObjectStore::put(const std::string& key, std::string_view bytes) {
  put_object(key, bytes);
}

void S3ObjectStore::put_file(const std::string& key, const fs::path& source) {
  check_key(key);
  std::uint64_t size = 0;
  std::string bytes;
  {
    auto fd = fileio::open_file(source, O_RDONLY);
    size = fs::file_size(source);
    if (size > options_.multipart_threshold) {
      // Part by part, never the whole file in memory.
      if (stat(key)) throw_exists(key);
      put_multipart(key, size, [&](std::uint64_t offset, std::size_t length, std::string& into) {
        into.resize(length);
        std::size_t got = 0;
        while (got < length) {
          auto n =
              ::pread(fd.get(), into.data() + got, length - got, static_cast<off_t>(offset + got));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          got += static_cast<std::size_t>(n);
        }
        into.resize(got);
      });
    } else {
      bytes = fileio::read_all(fd.get(), source);
      size = bytes.size();
      put_object(key, bytes);
    }
  }
  // The uploaded file becomes the cached copy.
  auto dest = cache_path(key);
  fs::create_directories(dest.parent_path());
  std::error_code ec;
  fs::rename(source, dest, ec);
  if (ec) {
    fs::remove(source, ec);
    return;
  }
  remember_cached(key, size);
}

std::string S3ObjectStore::get(const std::string& key) const {
  check_key(key);
  auto r = send("GET", object_name(key), {}, {}, {});
  if (r.status == 404) throw Error(ErrorCode::not_found, "object '" + key + "' not found");
  if (r.status != 200) throw_s3("GET " + key, r);
  return std::move(r.body);
}

fs::path S3ObjectStore::cache_path(const std::string& key) const {
  return options_.cache_dir / "objects" / key;
}

fs::path S3ObjectStore::local_path(const std::string& key) const {
  check_key(key);
  auto path = cache_path(key);
  {
    std::lock_guard lock(cache_mu_);
    auto it = cached_.find(key);
    if (it != cached_.end() && fs::exists(path)) {
      lru_.splice(lru_.begin(), lru_, it->second.first);
      return path;
    }
  }
  std::string bytes = get(key);
  fs::create_directories(path.parent_path());
  auto temp = options_.cache_dir / ".tmp" / fs::path(unique_key("cache", ".part")).filename();
  {
    auto fd = fileio::open_file(temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    fileio::write_all(fd.get(), bytes, temp);
  }
  fs::rename(temp, path);
  remember_cached(key, bytes.size());
  return path;
}

fs::path S3ObjectStore::local_directory(const std::string& prefix) const {
  check_key(prefix);
  auto dir = options_.cache_dir / "objects" / prefix;
  fs::create_directories(dir);
  return dir;
}

void S3ObjectStore::remember_cached(const std::string& key, std::uint64_t size) const {
  std::vector<std::string> evict;
  {
    std::lock_guard lock(cache_mu_);
    auto it = cached_.find(key);
    if (it != cached_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.first);
      return;
    }
    lru_.push_front(key);
    cached_[key] = {lru_.begin(), size};
    cached_total_ += size;
    // Least recently used first; the newest copy always stays.
    while (cached_total_ > options_.cache_bytes && lru_.size() > 1) {
      auto victim = lru_.back();
      lru_.pop_back();
      cached_total_ -= cached_[victim].second;
      cached_.erase(victim);
      evict.push_back(victim);
    }
  }
  // A reader holding an evicted file open keeps reading it (unlink semantics).
  for (const auto& k : evict) {
    std::error_code ec;
    fs::remove(cache_path(k), ec);
  }
}

void S3ObjectStore::forget_cached(const std::string& key) const {
  {
    std::lock_guard lock(cache_mu_);
    auto it = cached_.find(key);
    if (it == cached_.end()) return;
    cached_total_ -= it->second.second;
    lru_.erase(it->second.first);
    cached_.erase(it);
  }
  std::error_code ec;
  fs::remove(cache_path(key), ec);
}

std::uint64_t S3ObjectStore::cached_bytes() const {
  std::lock_guard lock(cache_mu_);
  return cached_total_;
}

std::optional<ObjectInfo> S3ObjectStore::stat(const std::string& key) const {
  check_key(key);
  auto r = send("HEAD", object_name(key), {}, {}, {});
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) throw_s3("HEAD " + key, r);
  ObjectInfo info;
  info.key = key;
  info.size = std::stoull(r.headers.count("content-length") ? r.headers["content-length"] : "0");
  info.modified_unix_ms =
      r.headers.count("last-modified") ? parse_http_date_ms(r.headers["last-modified"]) : 0;
  return info;
}

std::vector<ObjectInfo> S3ObjectStore::list(const std::string& prefix) const {
  std::vector<ObjectInfo> out;
  std::string full_prefix = object_name(prefix);
  if (prefix.empty() && !options_.prefix.empty()) full_prefix = options_.prefix + "/";
  std::size_t strip = options_.prefix.empty() ? 0 : options_.prefix.size() + 1;
  std::string token;
  for (;;) {
    std::map<std::string, std::string> query{{"list-type", "2"}, {"prefix", full_prefix}};
    if (!token.empty()) query["continuation-token"] = token;
    auto r = send("GET", "", query, {}, {});
    if (r.status != 200) throw_s3("LIST " + prefix, r);
    std::size_t at = 0;
    while ((at = r.body.find("<Contents>", at)) != std::string::npos) {
      auto end = r.body.find("</Contents>", at);
      std::string_view entry(r.body.data() + at,
                             (end == std::string::npos ? r.body.size() : end) - at);
      ObjectInfo info;
      auto key = xml_text(entry, "Key").value_or("");
      if (key.size() >= strip) info.key = key.substr(strip);
      info.size = std::stoull(xml_text(entry, "Size").value_or("0"));
      info.modified_unix_ms = parse_iso_ms(xml_text(entry, "LastModified").value_or(""));
      out.push_back(std::move(info));
      at = end == std::string::npos ? r.body.size() : end;
    }
    if (xml_text(r.body, "IsTruncated").value_or("false") != "true") break;
    token = xml_text(r.body, "NextContinuationToken").value_or("");
    if (token.empty()) break;
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

void S3ObjectStore::remove(const std::string& key) {
  check_key(key);
  auto r = send("DELETE", object_name(key), {}, {}, {});
  if (r.status != 204 && r.status != 200 && r.status != 404) throw_s3("DELETE " + key, r);
  forget_cached(key);
}

fs::path S3ObjectStore::scratch_dir() const {
  return options_.cache_dir / ".tmp";
}

}  // namespace duckmesh::storage
