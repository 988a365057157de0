#pragma once
// The decision log: one JSON object per line for every block, cookie strip and Set-Cookie drop/cap
// (and, when Settings::log_all_exchanges, every exchange). Written to a file or stdout ("-").
//
// Contract
// - log() never blocks on I/O: the caller's thread formats the line into a string and pushes it into a
//   bounded queue (limits.log_queue_entries); one writer thread drains the queue to the file. When the
//   queue is full the line is dropped and dropped() counts it (queue_entries 0 drops everything). The
//   only wait is a short mutex hold to push one string. Lines reach the file within ~5 ms (the writer lets
//   a burst accumulate so one write() carries many lines), or at once on flush().
// - Views in a DecisionRecord are read during log() only; nothing is kept after it returns.
// - Every string field is JSON-escaped for any byte: control characters become \u00XX, invalid UTF-8
//   becomes U+FFFD per bad byte, U+2028/U+2029 are escaped. Each field is capped at max_field_bytes,
//   each list ("cookies", "granted") at 64 items of 256 bytes; a cut is marked "...".
// - A write error (disk full, closed pipe: SIGPIPE is blocked in the writer thread) drops the lines of
//   that write and counts them in dropped().
// - Never logged: cookie values, query strings (unless log_full_urls, a debug flag), bodies, keys.
// - reopen() (SIGHUP, log rotation) asks the writer to reopen the path before its next write; a failed
//   reopen keeps the old file and bumps reopen_failures(). stdout is never reopened.
// - reopen_as(path) (SIGHUP with a changed `log:`) switches to another path, or to stdout ("-"), before the
//   next write; lines queued before the call may land in either. A failure keeps the current destination,
//   bumps reopen_failures() and is reported on stderr by the writer thread.
// - The destructor drains the queue, flushes and joins the writer (shutdown loses no queued line).
// Thread-safety: every member function may be called from any thread concurrently.
//
// Line schema (stable; keys are omitted when empty / not applicable, except "time", "action", "mode"):
//   {"time":"2026-11-22T13:09:02.123Z","exchange_id":42,"client":"127.0.0.1","site":"news.example","method":"GET",
//    "host":"www.google-analytics.com","path":"/g/collect","purpose":"analytics","action":"block",
//    "reason":"consent_missing","rule":"google-analytics/domains[0]","cookies":["_ga","_gid"],
//    "max_age":31536000,"status":204,"violation":"tracker_before_consent","consent":"missing",
//    "consent_source":"none","granted":["ads"],"gpc":true,"mode":"enforce","policy_hash":"0123456789abcdef"}
// - "client": a v4-mapped IPv6 address (::ffff:10.1.2.3, from a dual-stack socket) is written as the IPv4
//   address, so one client has one spelling whatever socket it came through.
// - "max_age": on cap_set_cookie lines, the lifetime the origin asked for (before the cap), in seconds.
// - "violation": the consent violation the decision is about (proxy/log_vocabulary.hpp); absent on allow
//   lines and on drops of unparseable Set-Cookie headers.
// - "granted": present whenever "consent" is "valid", even as [] (a valid choice that refuses everything);
//   absent otherwise (missing, malformed and expired consent grant nothing).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "policy/consent_state.hpp"
#include "proxy/log_vocabulary.hpp"  // LogAction, ViolationKind: shared with report/

namespace consent::proxy {

[[nodiscard]] std::string_view to_string(config::Mode m) noexcept;  // "enforce", "report-only", "gateway"

struct DecisionRecord {
  std::chrono::system_clock::time_point time;  // written as RFC 3339 UTC with milliseconds
  std::uint64_t exchange_id = 0;
  std::string_view client;  // client address, without port
  std::string_view site;    // first-party site (registrable domain); empty = unknown
  std::string_view method;
  std::string_view host;     // normalised request host
  std::string_view path;     // path and query as received; the query is cut unless log_full_urls
  std::string_view purpose;  // purpose id; empty = none
  LogAction action = LogAction::allow;
  std::string_view reason;                     // stable reason code
  std::string_view rule_id;                    // empty when no rule matched
  std::vector<std::string_view> cookie_names;  // names only, never values
  std::int64_t max_age_seconds = -1;           // Set-Cookie lifetime when known; -1 = not applicable
  int status = 0;                              // response status sent to the client; 0 = not known yet
  std::optional<ViolationKind> violation;      // none on allow lines
  policy::ConsentStatus consent = policy::ConsentStatus::missing;
  policy::ConsentSource consent_source = policy::ConsentSource::none;
  std::vector<std::string_view> granted;  // purpose ids granted by the consent in force; written when consent is valid
  bool gpc = false;
  config::Mode mode = config::Mode::enforce;
  std::string_view policy_hash;
};

class DecisionLog {
 public:
  static constexpr std::size_t max_field_bytes = 2048;  // longer fields are cut (at a UTF-8 boundary) + "..."

  struct Options {
    std::string path = "-";  // a file path (opened O_APPEND|O_CREAT, mode 0600), or "-" for stdout
    std::size_t queue_entries = config::Limits{}.log_queue_entries;
    bool log_full_urls = false;
  };

  // Opens the destination and starts the writer thread. nullptr with `error` set ("cannot open
  // /x/y.log: Permission denied") when the file cannot be opened.
  static std::unique_ptr<DecisionLog> open(const Options& options, std::string& error);

  ~DecisionLog();  // drains, flushes, joins
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  // Formats and enqueues one line. Never throws (a bad_alloc while formatting counts as a drop).
  void log(const DecisionRecord& record) noexcept;

  void reopen() noexcept;  // async-signal-unsafe: call it from the thread that handles SIGHUP, not a handler
  void reopen_as(const std::string& path) noexcept;
  [[nodiscard]] std::string path() const;  // the destination in use, or the one asked for by reopen_as()
  // Blocks until every line queued before the call has been written (tests, shutdown). Not for I/O threads.
  void flush();

  [[nodiscard]] std::uint64_t written() const noexcept;  // lines written
  [[nodiscard]] std::uint64_t dropped() const noexcept;  // lines dropped: queue full, or write error
  [[nodiscard]] std::uint64_t reopen_failures() const noexcept;

  // The JSON line for `record`, ending in '\n'. Pure; exposed for tests and `consentgate explain`.
  [[nodiscard]] static std::string format(const DecisionRecord& record, bool log_full_urls);

 private:
  struct Impl;
  explicit DecisionLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

namespace detail {
// Appends `s` as a JSON string (with quotes) to `out`; see the escaping rules above.
void append_json_string(std::string& out, std::string_view s, std::size_t max_bytes);
// The client address as logged: "::ffff:a.b.c.d" (any case) becomes "a.b.c.d"; anything else is unchanged.
[[nodiscard]] std::string_view loggable_client(std::string_view client) noexcept;
// "2026-11-22T13:09:02.123Z"
void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point t);
// Opens an append-only log file (decision log, consent records), creating it mode 0600: its lines name
// clients. Returns the descriptor, or -1 with `error` saying why.
[[nodiscard]] int open_log_file(const std::string& path, std::string& error);
// Writes all of `data`, retrying on EINTR; false on any other error.
[[nodiscard]] bool write_all(int fd, std::string_view data);
}  // namespace detail

}  // namespace consent::proxy
