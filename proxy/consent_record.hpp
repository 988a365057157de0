#pragma once
// Proof of consent (issue 6; CNIL: the operator must be able to show, at any time, that consent was
// given). One JSON line per new consent state seen for a visitor, in a file rotated by size.
//
// Line schema (stable; documented in docs/gateway.md):
//   {"time":"2026-11-22T16:00:00Z","visitor":"<64 hex: HMAC-SHA256(key, consent cookie value)>",
//    "site":"shop.example","route":"shop","source":"eu-consent","cookie":"eu-consent","status":"valid",
//    "choice_time":"2026-11-20T09:12:00Z","granted":["audience-measurement"],
//    "refused":["advertising-personalised"],"gpc":false,"policy_hash":"0123456789abcdef"}
// The cookie value itself is never written: the keyed hash lets the operator show that a given cookie
// (the visitor's, presented later) was seen, without the log revealing it, and without a dictionary
// attack on short values when the key stays secret.
//
// Thread-safety: record() may be called from any thread; it never does file I/O (a writer thread does).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace consent::proxy {

inline constexpr std::size_t consent_record_key_bytes = 32;

// HMAC-SHA256 of `data` under `key`, as 64 lower-case hex digits.
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view data);

struct ConsentRecordFields {
  std::chrono::system_clock::time_point time;
  std::string_view visitor;  // hmac_sha256_hex of the consent cookie value
  std::string_view site;
  std::string_view route;
  std::string_view source;       // "eu-consent", "tcf", "cmp"
  std::string_view cookie;       // the cookie's name
  std::string_view status;       // "valid" (only valid states are recorded)
  std::int64_t choice_time = 0;  // epoch seconds of the choice as the cookie states it; 0 = unknown
  std::vector<std::string_view> granted;
  std::vector<std::string_view> refused;
  bool gpc = false;
  std::string_view policy_hash;
};

// One line, '\n'-terminated; every string JSON-escaped.
[[nodiscard]] std::string format_consent_record(const ConsentRecordFields& r);

// A bounded set of recently seen keys, least recently used dropped first. Not thread-safe.
class RecentKeys {
 public:
  explicit RecentKeys(std::size_t capacity) : capacity_(capacity) {}
  // True when `key` was not among the recent keys (it is now, as the most recent).
  bool insert(const std::string& key);
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }

 private:
  std::size_t capacity_;
  std::list<std::string> order_;  // most recent first
  std::unordered_map<std::string_view, std::list<std::string>::iterator> map_;
};

// Shifts rotated files: path.(keep-1) -> path.keep ... path -> path.1; path.keep is replaced. Files
// beyond `keep` are never created. Errors are returned as text ("" = done).
[[nodiscard]] std::string rotate_files(const std::filesystem::path& path, unsigned keep);

// Loads the HMAC key: `key_file` when set (at least 32 bytes, not accessible to others), else
// data_dir/consent-records.key, created with 32 random bytes (mode 0600; data_dir created 0700) when
// missing, refused when accessible to group or others. Blocking file I/O: call at start.
[[nodiscard]] std::string load_consent_record_key(const std::string& key_file, const std::filesystem::path& data_dir,
                                                  std::string& error);

class ConsentRecordLog {
 public:
  struct Options {
    std::string path;  // file (O_APPEND, 0600), or "-" for stdout (never rotated)
    std::size_t rotate_bytes = 64 * 1024 * 1024;
    unsigned keep = 10;
    std::string key;                      // HMAC key bytes
    std::size_t recent_entries = 65'536;  // dedup memory (named limit)
    std::size_t queue_entries = 65'536;   // lines waiting for the writer; more are dropped and counted
  };
  static std::unique_ptr<ConsentRecordLog> open(Options options, std::string& error);
  ~ConsentRecordLog();  // drains and joins
  ConsentRecordLog(const ConsentRecordLog&) = delete;
  ConsentRecordLog& operator=(const ConsentRecordLog&) = delete;

  [[nodiscard]] std::string visitor_hash(std::string_view cookie_value) const;
  // Queues the line unless the same (visitor, state) was seen recently. `fields.visitor` must be
  // visitor_hash() of the cookie; `state_key` distinguishes states of one cookie (granted bits, GPC).
  // True when a line was queued.
  bool record(const ConsentRecordFields& fields, std::string_view state_key);
  void flush();  // waits until queued lines are written

  [[nodiscard]] std::uint64_t written() const noexcept;
  [[nodiscard]] std::uint64_t dropped() const noexcept;

 private:
  struct Impl;
  explicit ConsentRecordLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace consent::proxy
