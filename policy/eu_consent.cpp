#include "policy/eu_consent.hpp"

#include <algorithm>

#include "policy/detail/base64.hpp"
#include "policy/detail/json.hpp"

namespace consent::policy {
namespace {

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`.
bool fixed_digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) noexcept {
  if (s.size() < pos + n) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[pos + i])) return false;
    out = out * 10 + static_cast<unsigned>(s[pos + i] - '0');
  }
  return true;
}

// Epoch seconds are at most 12 digits (year 33658): anything longer is a misuse (milliseconds, garbage).
bool parse_epoch(std::string_view s, std::int64_t& out) noexcept {
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  if (whole.empty() || whole.size() > 12) return false;
  if (dot != std::string_view::npos) {
    const std::string_view frac = s.substr(dot + 1);
    if (frac.empty() || !std::all_of(frac.begin(), frac.end(), is_digit)) return false;
  }
  std::int64_t v = 0;
  for (const char c : whole) {
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool is_leap(unsigned y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool parse_iso8601(std::string_view s, std::int64_t& out) noexcept {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!fixed_digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !fixed_digits(s, 5, 2, month) || s[7] != '-' ||
      !fixed_digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !fixed_digits(s, 11, 2, hour) ||
      s[13] != ':' || !fixed_digits(s, 14, 2, minute) || s[16] != ':' || !fixed_digits(s, 17, 2, second)) {
    return false;
  }
  static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1970 || month < 1 || month > 12 || day < 1) return false;
  if (day > month_days[month - 1] + (month == 2 && is_leap(year) ? 1U : 0U)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == start || pos - start > 9) return false;
  }
  // A time without a zone is local time somewhere: ambiguous, so refused.
  std::int64_t offset = 0;
  const std::string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    unsigned oh = 0, om = 0;
    if (!fixed_digits(zone, 1, 2, oh) || !fixed_digits(zone, 4, 2, om) || oh > 23 || om > 59) return false;
    offset = (zone[0] == '-' ? -1 : 1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
  } else if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
    unsigned oh = 0, om = 0;
    if (!fixed_digits(zone, 1, 2, oh) || !fixed_digits(zone, 3, 2, om) || oh > 23 || om > 59) return false;
    offset = (zone[0] == '-' ? -1 : 1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
  } else {
    return false;
  }
  const std::int64_t days = detail::days_from_civil(year, month, day);
  out = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  return true;
}

struct Collector {
  EuConsent& out;
  std::size_t entries = 0;
  std::string_view error;

  bool fail(std::string_view why) {
    error = why;
    return false;
  }
  bool count() {
    if (++entries > max_eu_consent_entries) return fail("too many entries");
    return true;
  }
  bool purpose(std::string_view key, bool granted) {
    if (!count()) return false;
    if (key.empty()) return fail("empty key");
    for (const auto& [k, v] : out.purposes) {
      if (k != key) continue;
      if (v != granted) return fail("duplicate key with different values");
      return true;
    }
    out.purposes.emplace_back(std::string(key), granted);
    return true;
  }
  bool timestamp(std::int64_t ts) {
    if (!count()) return false;
    if (out.timestamp && *out.timestamp != ts) return fail("conflicting timestamps");
    out.timestamp = ts;
    return true;
  }
  bool version(std::string_view v) {
    if (!count()) return false;
    if (out.version && *out.version != v) return fail("conflicting versions");
    out.version = std::string(v);
    return true;
  }
};

bool is_timestamp_key(std::string_view k) noexcept { return k == "ts" || k == "iat"; }

bool json_member(Collector& c, const std::string& key, const detail::json::Value& value) {
  using detail::json::Kind;
  if (is_timestamp_key(key)) {
    std::int64_t ts = 0;
    if (value.kind == Kind::number) {
      if (!value.text.empty() && value.text[0] == '-') return c.fail("invalid timestamp");
      if (value.text.find_first_of("eE") != std::string::npos || !parse_epoch(value.text, ts)) {
        return c.fail("invalid timestamp");
      }
    } else if (value.kind != Kind::string || !parse_timestamp(value.text, ts)) {
      return c.fail("invalid timestamp");
    }
    return c.timestamp(ts);
  }
  if (key == "v") {
    if (value.kind != Kind::string && value.kind != Kind::number) return c.fail("invalid version");
    return c.version(value.text);
  }
  if (value.kind == Kind::boolean) return c.purpose(key, value.boolean);
  if (value.kind == Kind::object || value.kind == Kind::array) return c.fail("nested value");
  return c.fail("purpose value is not a boolean");
}

bool from_json(Collector& c, std::string_view text) {
  using detail::json::Kind;
  detail::json::Value root;
  detail::json::Options options;
  options.max_bytes = max_eu_consent_bytes;
  options.max_depth = 2;  // the object, and the optional "purposes" envelope inside it
  options.max_nodes = 2 * max_eu_consent_entries + 4;
  if (const auto err = detail::json::parse(text, root, options); !err.empty()) return c.fail(err);
  if (root.kind != Kind::object) return c.fail("not a JSON object");
  bool saw_envelope = false;
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const auto& key = root.keys[i];
    const auto& value = root.items[i];
    if (key == "purposes" && value.kind == Kind::object) {
      if (saw_envelope) return c.fail("duplicate key with different values");
      saw_envelope = true;
      for (std::size_t j = 0; j < value.keys.size(); ++j) {
        if (!value.items[j].is_bool()) return c.fail("purpose value is not a boolean");
        if (!c.purpose(value.keys[j], value.items[j].boolean)) return false;
      }
      continue;
    }
    if (!json_member(c, key, value)) return false;
  }
  return true;
}

bool is_compact_key_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;  // UTF-8, validated as a whole below
  if (u <= 0x20 || u == 0x7F) return false;
  return c != '"' && c != '{' && c != '}' && c != '[' && c != ']' && c != '%' && c != '\\';
}

bool from_compact(Collector& c, std::string_view text) {
  const bool has_comma = text.find(',') != std::string_view::npos;
  const bool has_bar = text.find('|') != std::string_view::npos;
  if (has_comma && has_bar) return c.fail("mixed pair separators");
  const char sep = has_bar ? '|' : ',';
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(sep, pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (pair.empty()) return c.fail("empty pair");
    const std::size_t kv = pair.find_first_of(":=");
    if (kv == std::string_view::npos) return c.fail("pair without a value");
    const std::string_view key = trim(pair.substr(0, kv));
    const std::string_view value = trim(pair.substr(kv + 1));
    if (key.empty()) return c.fail("empty key");
    if (!std::all_of(key.begin(), key.end(), is_compact_key_char)) return c.fail("invalid character in key");
    if (!detail::json::is_valid_utf8(key)) return c.fail("invalid UTF-8");
    if (is_timestamp_key(key)) {
      std::int64_t ts = 0;
      if (!parse_timestamp(value, ts)) return c.fail("invalid timestamp");
      if (!c.timestamp(ts)) return false;
    } else if (key == "v") {
      if (value.empty() || !std::all_of(value.begin(), value.end(), is_compact_key_char) ||
          !detail::json::is_valid_utf8(value)) {
        return c.fail("invalid version");
      }
      if (!c.version(value)) return false;
    } else if (value == "true" || value == "1") {
      if (!c.purpose(key, true)) return false;
    } else if (value == "false" || value == "0") {
      if (!c.purpose(key, false)) return false;
    } else {
      return c.fail("purpose value is not a boolean");
    }
  }
  return true;
}

// Base64 of a JSON object never contains ':', ',', '|' and has '=' only at its end, whereas the compact
// form always has ':' or a '=' before its value, so the two cannot be confused.
bool looks_like_base64(std::string_view s) noexcept {
  const std::size_t body = s.find_last_not_of('=');
  if (body == std::string_view::npos) return false;
  return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(body + 1),
                     [](char c) { return detail::base64_any_value(c) >= 0; });
}

}  // namespace

bool parse_timestamp(std::string_view text, std::int64_t& epoch_seconds) noexcept {
  if (text.empty()) return false;
  if (text.size() >= 5 && text[4] == '-') return parse_iso8601(text, epoch_seconds);
  return parse_epoch(text, epoch_seconds);
}

namespace detail {
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  const auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (in.size() - i < 3) return false;
    const int hi = hex(in[i + 1]);
    const int lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}
}  // namespace detail

EuConsent parse_eu_consent(std::string_view raw) {
  EuConsent out;
  const auto malformed = [&out](std::string_view why) {
    out = EuConsent{};
    out.status = EuConsentStatus::malformed;
    out.reason = why;
    return out;
  };
  if (raw.size() > max_eu_consent_bytes) return malformed("too large");
  std::string_view s = trim(raw);
  // RFC 6265 §4.1.1 allows a DQUOTE-wrapped cookie value; the quotes are not part of the data.
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
  if (s.empty()) return malformed("empty");
  std::string decoded;
  if (s.find('%') != std::string_view::npos) {
    if (!detail::percent_decode(s, decoded)) return malformed("invalid percent-encoding");
    s = trim(decoded);
    if (s.empty()) return malformed("empty");
  }
  Collector c{out, 0, {}};
  bool parsed = false;
  std::string from_base64;
  if (s.front() == '{') {
    parsed = from_json(c, s);
  } else if (looks_like_base64(s)) {
    if (!detail::base64_decode(s, from_base64)) return malformed("invalid base64");
    const std::string_view inner = trim(from_base64);
    if (inner.empty() || inner.front() != '{') return malformed("base64 does not hold a JSON object");
    parsed = from_json(c, inner);
  } else {
    parsed = from_compact(c, s);
  }
  if (!parsed) return malformed(c.error);
  out.status = EuConsentStatus::ok;
  out.reason = {};
  return out;
}

}  // namespace consent::policy
