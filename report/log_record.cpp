#include "report/log_record.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace consent::report {

namespace {
constexpr std::array<std::string_view, line_error_count> line_error_names = {
    "invalid_json", "not_an_object", "missing_field", "bad_field", "unknown_action", "line_too_long",
};
}  // namespace

std::string_view to_string(LineError e) noexcept { return line_error_names[static_cast<std::size_t>(e)]; }

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& value) noexcept {
  if (pos + n > s.size()) return false;
  value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

using json = nlohmann::json;

// Reads an optional string key; false when present with another type.
bool read_string(const json& j, const char* key, std::string& out) {
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  out = it->get_ref<const std::string&>();
  return true;
}

bool read_strings(const json& j, const char* key, std::vector<std::string>& out, bool& present) {
  const auto it = j.find(key);
  present = it != j.end();
  if (!present) return true;
  if (!it->is_array()) return false;
  out.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_string()) return false;
    out.push_back(v.get_ref<const std::string&>());
  }
  return true;
}

bool read_int(const json& j, const char* key, std::int64_t& out) {
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = static_cast<std::int64_t>(v);
    return true;
  }
  if (!it->is_number_integer()) return false;
  out = it->get<std::int64_t>();
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), RFC 3339 section 5.6.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  if (second == 60) second = 59;  // a leap second sorts with the second before it
  std::size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto days_since_epoch = sys_days{ymd}.time_since_epoch().count();
  return ((static_cast<std::int64_t>(days_since_epoch) * 24 + hour) * 60 + minute - offset_minutes) * 60'000 +
         static_cast<std::int64_t>(second) * 1000 + millis;
}

std::string format_rfc3339_ms(std::int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{ms}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                              static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                              static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                              static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::optional<LineError> parse_log_line(std::string_view line, LogRecord& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // No exceptions: a hostile line is data, and nlohmann's parser is iterative (no recursion on depth).
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return LineError::invalid_json;
  if (!j.is_object()) return LineError::not_an_object;
  out = LogRecord{};
  const auto time = j.find("time");
  const auto action = j.find("action");
  const auto mode = j.find("mode");
  if (time == j.end() || action == j.end() || mode == j.end()) return LineError::missing_field;
  if (!time->is_string() || !action->is_string() || !mode->is_string()) return LineError::bad_field;
  const auto t = parse_rfc3339_ms(time->get_ref<const std::string&>());
  if (!t) return LineError::bad_field;
  out.time_ms = *t;
  const auto a = parse_action(action->get_ref<const std::string&>());
  if (!a) return LineError::unknown_action;
  out.action = *a;
  out.mode = mode->get_ref<const std::string&>();
  std::int64_t exchange_id = 0;
  std::int64_t status = 0;
  std::int64_t max_age = INT64_MIN;  // sentinel: absent
  bool has_cookies = false;
  std::string scratch;  // keys checked for type only
  const auto gpc = j.find("gpc");
  if (!read_string(j, "client", out.client) || !read_string(j, "site", out.site) ||
      !read_string(j, "method", out.method) || !read_string(j, "host", out.host) || !read_string(j, "path", out.path) ||
      !read_string(j, "purpose", out.purpose) || !read_string(j, "reason", out.reason) ||
      !read_string(j, "rule", out.rule) || !read_string(j, "consent", out.consent) ||
      !read_string(j, "violation", out.violation) || !read_string(j, "consent_source", scratch) ||
      !read_string(j, "policy_hash", scratch) || !read_strings(j, "cookies", out.cookies, has_cookies) ||
      !read_strings(j, "granted", out.granted, out.has_granted) || !read_int(j, "exchange_id", exchange_id) ||
      !read_int(j, "max_age", max_age) || !read_int(j, "status", status) || (gpc != j.end() && !gpc->is_boolean())) {
    return LineError::bad_field;
  }
  if (exchange_id < 0 || status < 0 || (max_age != INT64_MIN && max_age < 0)) return LineError::bad_field;
  if (max_age != INT64_MIN) out.max_age = max_age;
  return std::nullopt;
}

}  // namespace consent::report
