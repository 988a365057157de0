#include "policy/set_cookie.hpp"

#include <array>
#include <cstddef>
#include <limits>

namespace consent::policy {
namespace {

// RFC 6265bis §5.6: the name and value together may not exceed 4096 octets, and an attribute value
// longer than 1024 octets makes only that attribute ignored.
constexpr std::size_t max_name_value_bytes = 4096;
constexpr std::size_t max_attribute_value_bytes = 1024;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

// IMF-fixdate has a 4-digit year; dates outside 1970..9999 are clamped rather than formatted wrongly.
constexpr std::int64_t max_formattable_epoch = 253402300799;  // 9999-12-31T23:59:59Z

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? int64_max : int64_min;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t diff = 0;
  if (!__builtin_sub_overflow(a, b, &diff)) return diff;
  return b < 0 ? int64_max : int64_min;
}

// RFC 6265 §5.2.2: a leading '-' then digits only. Hostile servers send thousands of digits (the WPT
// suite does too), so the value saturates instead of overflowing.
std::optional<std::int64_t> parse_max_age(std::string_view v) noexcept {
  if (v.empty() || !(is_digit(v.front()) || v.front() == '-')) return std::nullopt;
  const bool negative = v.front() == '-';
  if (negative) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;  // a lone "-" is not an integer
  std::int64_t magnitude = 0;
  for (const char c : v) {
    if (!is_digit(c)) return std::nullopt;
    const int digit = c - '0';
    if (magnitude > (int64_max - digit) / 10) {
      magnitude = int64_max;
    } else {
      magnitude = magnitude * 10 + digit;
    }
  }
  return negative ? -magnitude : magnitude;
}

// RFC 6265 §5.1.1 delimiter set: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
constexpr bool is_date_delimiter(unsigned char c) noexcept {
  return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// Matches `min..max DIGIT ( non-digit *OCTET )` at the start of `token`, the shape §5.1.1 uses for every
// numeric field; writes the number and the rest after the digits.
bool match_digits(std::string_view token, std::size_t min, std::size_t max, int& number,
                  std::string_view& rest) noexcept {
  std::size_t n = 0;
  int value = 0;
  while (n < token.size() && is_digit(token[n])) {
    if (n == max) return false;  // a further digit: not this production
    value = value * 10 + (token[n] - '0');
    ++n;
  }
  if (n < min) return false;
  number = value;
  rest = token.substr(n);
  return true;
}

bool match_time(std::string_view token, int& hour, int& minute, int& second) noexcept {
  std::string_view rest;
  if (!match_digits(token, 1, 2, hour, rest) || rest.empty() || rest.front() != ':') return false;
  if (!match_digits(rest.substr(1), 1, 2, minute, rest) || rest.empty() || rest.front() != ':') return false;
  return match_digits(rest.substr(1), 1, 2, second, rest);
}

int match_month(std::string_view token) noexcept {
  static constexpr std::array<std::string_view, 12> months = {"jan", "feb", "mar", "apr", "may", "jun",
                                                              "jul", "aug", "sep", "oct", "nov", "dec"};
  if (token.size() < 3) return 0;
  for (std::size_t i = 0; i < months.size(); ++i) {
    if (iequals(token.substr(0, 3), months[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

constexpr bool is_leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int year, int month) noexcept {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

// Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar, no table, no locale.
std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// RFC 6265 §5.1.1, the cookie-date algorithm, step by step: tokens are taken in order and each fills the
// first production it matches whose flag is still unset.
std::optional<std::int64_t> parse_cookie_date(std::string_view text) noexcept {
  bool found_time = false, found_day = false, found_month = false, found_year = false;
  int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && is_date_delimiter(static_cast<unsigned char>(text[pos]))) ++pos;
    std::size_t end = pos;
    while (end < text.size() && !is_date_delimiter(static_cast<unsigned char>(text[end]))) ++end;
    const std::string_view token = text.substr(pos, end - pos);
    pos = end;
    if (token.empty()) continue;
    std::string_view rest;
    int number = 0;
    if (!found_time && match_time(token, hour, minute, second)) {
      found_time = true;
    } else if (!found_day && match_digits(token, 1, 2, number, rest)) {
      found_day = true;
      day = number;
    } else if (!found_month && match_month(token) != 0) {
      found_month = true;
      month = match_month(token);
    } else if (!found_year && match_digits(token, 2, 4, number, rest)) {
      found_year = true;
      year = number;
    }
  }
  // §5.1.1 step 3 and 4: two-digit years, then the range checks.
  if (year >= 70 && year <= 99) year += 1900;
  if (year >= 0 && year <= 69) year += 2000;
  if (!found_time || !found_day || !found_month || !found_year) return std::nullopt;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  if (day > days_in_month(year, month)) return std::nullopt;  // step 5: "Feb 31" is no date
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

// RFC 6265bis §5.6 step 1: any CTL except HTAB makes the whole header ignored.
bool has_forbidden_control(std::string_view s) noexcept {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != 0x09) || u == 0x7F) return true;
  }
  return false;
}

// One cookie-av: its bytes from the ';' that opens it to just before the next ';' (or the end).
struct Attribute {
  std::size_t begin = 0;  // index of the opening ';'
  std::size_t end = 0;
  std::string_view name;
  std::string_view value;
};

// Calls on_attribute for each cookie-av after the name-value pair (RFC 6265 §5.2 steps for
// unparsed-attributes), in order.
template <class OnAttribute>
void for_each_attribute(std::string_view header, OnAttribute&& on_attribute) noexcept {
  std::size_t pos = header.find(';');
  while (pos != std::string_view::npos) {
    std::size_t next = header.find(';', pos + 1);
    const std::size_t end = next == std::string_view::npos ? header.size() : next;
    const std::string_view av = header.substr(pos + 1, end - pos - 1);
    Attribute a;
    a.begin = pos;
    a.end = end;
    const std::size_t eq = av.find('=');
    a.name = trim(av.substr(0, eq));
    a.value = eq == std::string_view::npos ? std::string_view{} : trim(av.substr(eq + 1));
    on_attribute(a);
    pos = next;
  }
}

void apply_attribute(SetCookie& c, const Attribute& a) noexcept {
  if (a.value.size() > max_attribute_value_bytes) return;
  if (iequals(a.name, "expires")) {
    if (auto t = parse_cookie_date(a.value)) c.expires = t;
  } else if (iequals(a.name, "max-age")) {
    if (auto v = parse_max_age(a.value)) c.max_age = v;
  } else if (iequals(a.name, "domain")) {
    // §5.2.3: an empty Domain is ignored (6265bis: SHOULD ignore), a single leading dot is dropped.
    if (a.value.empty()) return;
    c.domain = a.value.front() == '.' ? a.value.substr(1) : a.value;
  } else if (iequals(a.name, "path")) {
    // §5.2.4: anything not starting with '/' means the default path, which we represent as empty.
    c.path = !a.value.empty() && a.value.front() == '/' ? a.value : std::string_view{};
  } else if (iequals(a.name, "secure")) {
    c.secure = true;
  } else if (iequals(a.name, "httponly")) {
    c.http_only = true;
  } else if (iequals(a.name, "samesite")) {
    // 6265bis §5.6.7: an unrecognised value means "Default", and the last SameSite still wins.
    if (iequals(a.value, "strict")) {
      c.same_site = "Strict";
    } else if (iequals(a.value, "lax")) {
      c.same_site = "Lax";
    } else if (iequals(a.value, "none")) {
      c.same_site = "None";
    } else {
      c.same_site = {};
    }
  } else if (iequals(a.name, "partitioned")) {
    c.partitioned = true;
  }
}

// Splits the civil date of `days` since the epoch (Hinnant's civil_from_days).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

void append_two_digits(std::string& out, unsigned v) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

}  // namespace

std::optional<SetCookie> parse_set_cookie(std::string_view header) noexcept {
  if (header.size() > max_set_cookie_bytes || has_forbidden_control(header)) return std::nullopt;
  const std::string_view pair = header.substr(0, header.find(';'));
  const std::size_t eq = pair.find('=');
  // RFC 6265 §5.2 step 2 (the contract in set_cookie.hpp): no '=' means the header is ignored. 6265bis
  // would make it a nameless cookie instead; callers treat nullopt as "not a cookie we can reason about".
  if (eq == std::string_view::npos) return std::nullopt;
  SetCookie c;
  c.name = trim(pair.substr(0, eq));
  c.value = trim(pair.substr(eq + 1));
  if (c.name.empty() && c.value.empty()) return std::nullopt;
  if (c.name.size() + c.value.size() > max_name_value_bytes) return std::nullopt;
  for_each_attribute(header, [&c](const Attribute& a) { apply_attribute(c, a); });
  return c;
}

std::optional<std::int64_t> lifetime_seconds(const SetCookie& c, std::int64_t now) noexcept {
  if (c.max_age) return c.max_age;
  if (c.expires) return saturating_sub(*c.expires, now);
  return std::nullopt;
}

std::optional<std::string> cap_set_cookie(std::string_view header, std::int64_t max_age_seconds, std::int64_t now) {
  const auto cookie = parse_set_cookie(header);
  if (!cookie) return std::nullopt;
  const auto lifetime = lifetime_seconds(*cookie, now);
  if (!lifetime || *lifetime <= 0) return std::nullopt;  // session cookie or deletion: nothing to cap
  if (max_age_seconds < 0) max_age_seconds = 0;
  // Old clients read only Expires, so an Expires beyond the cap needs rewriting even when Max-Age is short.
  const bool expires_too_far = cookie->expires && saturating_sub(*cookie->expires, now) > max_age_seconds;
  if (*lifetime <= max_age_seconds && !expires_too_far) return std::nullopt;
  const std::int64_t new_age = *lifetime < max_age_seconds ? *lifetime : max_age_seconds;

  const std::string max_age_av = "; Max-Age=" + std::to_string(new_age);
  const std::string expires_av = "; Expires=" + format_http_date(saturating_add(now, new_age));
  std::string out;
  out.reserve(header.size() + max_age_av.size() + expires_av.size());
  bool wrote_max_age = false, wrote_expires = false;
  std::size_t copied = 0;
  // Each Max-Age/Expires cookie-av (valid or not) is cut out; the first of each kind is replaced in place
  // by the new value, so the result carries exactly one of each and every other byte as sent.
  for_each_attribute(header, [&](const Attribute& a) {
    const bool is_max_age = iequals(a.name, "max-age");
    const bool is_expires = iequals(a.name, "expires");
    if (!is_max_age && !is_expires) return;
    out.append(header.substr(copied, a.begin - copied));
    copied = a.end;
    if (is_max_age && !wrote_max_age) {
      out += max_age_av;
      wrote_max_age = true;
    } else if (is_expires && !wrote_expires) {
      out += expires_av;
      wrote_expires = true;
    }
  });
  out.append(header.substr(copied));
  if (!wrote_max_age) out += max_age_av;
  if (!wrote_expires) out += expires_av;
  return out;
}

std::string format_http_date(std::int64_t epoch_seconds) {
  static constexpr std::array<std::string_view, 7> weekdays = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (epoch_seconds < 0) epoch_seconds = 0;
  if (epoch_seconds > max_formattable_epoch) epoch_seconds = max_formattable_epoch;
  const std::int64_t days = epoch_seconds / 86400;
  const auto secs = static_cast<unsigned>(epoch_seconds % 86400);
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, year, month, day);
  std::string out;
  out.reserve(29);
  out += weekdays[static_cast<std::size_t>(days % 7)];  // 1970-01-01 was a Thursday
  out += ", ";
  append_two_digits(out, day);
  out += ' ';
  out += months[month - 1];
  out += ' ';
  out += std::to_string(year);
  out += ' ';
  append_two_digits(out, secs / 3600);
  out += ':';
  append_two_digits(out, secs / 60 % 60);
  out += ':';
  append_two_digits(out, secs % 60);
  out += " GMT";
  return out;
}

}  // namespace consent::policy
