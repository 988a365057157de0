#pragma once
// One decision-log line (schema: proxy/decision_log.hpp), parsed into owned values. Pure: no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/log_vocabulary.hpp"

namespace consent::report {

// The actions as the proxy writes them: one vocabulary for writer and reader (proxy/log_vocabulary.hpp,
// header-only), so an action added there is known here at compile time.
using Action = proxy::LogAction;
inline constexpr std::size_t action_count = proxy::log_action_count;
using proxy::enforcing;  // the enforcing twin of a would_* action
using proxy::is_would;
using proxy::to_string;
[[nodiscard]] constexpr std::optional<Action> parse_action(std::string_view s) noexcept {
  return proxy::parse_log_action(s);
}

// Why a line is not a record. Stable names (they appear in the JSON summary).
enum class LineError : std::uint8_t {
  invalid_json,    // not JSON, or not valid UTF-8
  not_an_object,   // JSON, but not an object
  missing_field,   // "time", "action" or "mode" absent
  bad_field,       // a known key with the wrong type or an impossible value (bad time, negative max_age)
  unknown_action,  // "action" is not one of the nine documented values
  line_too_long,   // longer than Limits::max_line_bytes (decided by the reader, not the parser)
};
inline constexpr std::size_t line_error_count = 6;
[[nodiscard]] std::string_view to_string(LineError e) noexcept;

struct LogRecord {
  std::int64_t time_ms = 0;  // milliseconds since the Unix epoch, UTC
  std::string client;
  std::string site;  // empty = unknown
  std::string method;
  std::string host;
  std::string path;
  std::string purpose;  // empty = none
  Action action = Action::allow;
  std::string reason;
  std::string rule;
  std::vector<std::string> cookies;
  std::int64_t max_age = -1;  // -1 = absent
  std::string consent;        // "missing", "valid", "malformed", "expired"; empty = absent
  std::string violation;      // the proxy's name for the violation (proxy::ViolationKind); empty = absent
  std::vector<std::string> granted;
  bool has_granted = false;  // the key was present (then `granted` is the whole set in force)
  std::string mode;
  [[nodiscard]] bool is_report_only() const noexcept { return mode == "report-only" || is_would(action); }
};

// Parses one line (without its '\n'; a trailing '\r' is tolerated). Unknown keys are ignored so newer
// proxies can add keys. Never throws; on error `out` is left in an unspecified state.
[[nodiscard]] std::optional<LineError> parse_log_line(std::string_view line, LogRecord& out);

// RFC 3339 date-time ("2026-11-22T13:09:02.123Z", offsets allowed, fraction cut to milliseconds).
[[nodiscard]] std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) noexcept;
// "2026-11-22T13:09:02.123Z"
[[nodiscard]] std::string format_rfc3339_ms(std::int64_t ms);

}  // namespace consent::report
