#include "policy/cmp_consent.hpp"

#include <algorithm>
#include <array>

#include "policy/detail/base64.hpp"
#include "policy/detail/json.hpp"
#include "policy/eu_consent.hpp"

namespace consent::policy {
namespace {

using detail::json::Kind;
using detail::json::Value;

constexpr std::array<std::pair<std::string_view, CmpFormat>, 6> format_names{{
    {"tarteaucitron", CmpFormat::tarteaucitron},
    {"didomi", CmpFormat::didomi},
    {"onetrust", CmpFormat::onetrust},
    {"cookiebot", CmpFormat::cookiebot},
    {"axeptio", CmpFormat::axeptio},
    {"klaro", CmpFormat::klaro},
}};

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Collects choices, then sorts them once: a Didomi token can list hundreds of vendors, and a pairwise
// duplicate check would be quadratic in an attacker-chosen count.
class Builder {
 public:
  explicit Builder(CmpConsent& out) : out_(out) {}

  bool fail(std::string_view why) {
    error_ = why;
    return false;
  }
  bool add(std::string_view key, bool chosen) {
    if (key.empty()) return fail("empty key");
    if (!detail::json::is_valid_utf8(key)) return fail("invalid UTF-8");
    if (out_.choices.size() >= max_cmp_choices) return fail("too many choices");
    out_.choices.emplace_back(std::string(key), chosen);
    return true;
  }
  bool finish() {
    auto& c = out_.choices;
    std::stable_sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::size_t w = 0;
    for (std::size_t r = 0; r < c.size(); ++r) {
      if (w > 0 && c[w - 1].first == c[r].first) {
        if (c[w - 1].second != c[r].second) return fail("same key with different choices");
        continue;
      }
      if (w != r) c[w] = std::move(c[r]);
      ++w;
    }
    c.resize(w);
    return true;
  }
  [[nodiscard]] std::string_view error() const noexcept { return error_; }

 private:
  CmpConsent& out_;
  std::string_view error_ = "malformed";
};

// Percent-decodes `s` into `buffer` when it holds a '%'; returns the text to parse.
bool maybe_percent_decode(std::string_view& s, std::string& buffer) {
  if (s.find('%') == std::string_view::npos) return true;
  if (!detail::percent_decode(s, buffer)) return false;
  s = trim(buffer);
  return true;
}

bool parse_tarteaucitron(Builder& b, std::string_view s) {
  // tarteaucitron.js writes "!" + service + "=" + status for each service, status in true|false|wait.
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find('!', pos);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view item = s.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return b.fail("service without a status");
    const std::string_view key = item.substr(0, eq);
    const std::string_view status = item.substr(eq + 1);
    if (status == "true") {
      if (!b.add(key, true)) return false;
    } else if (status == "false") {
      if (!b.add(key, false)) return false;
    } else if (status == "wait") {
      if (key.empty()) return b.fail("empty key");  // no choice made yet: not recorded
    } else {
      return b.fail("status is not true, false or wait");
    }
  }
  return true;
}

bool json_timestamp(const Value& v, std::optional<std::int64_t>& out) {
  std::int64_t ts = 0;
  if (v.kind != Kind::string || !parse_timestamp(v.text, ts)) return false;
  out = ts;
  return true;
}

bool didomi_list(Builder& b, const Value& group, std::string_view field, bool chosen) {
  for (std::size_t i = 0; i < group.keys.size(); ++i) {
    if (group.keys[i] != field) continue;
    const Value& list = group.items[i];
    if (list.kind != Kind::array) return b.fail("enabled/disabled is not a list");
    for (const Value& item : list.items) {
      if (item.kind != Kind::string) return b.fail("list item is not a string");
      if (!b.add(item.text, chosen)) return false;
    }
  }
  return true;
}

bool parse_didomi(Builder& b, CmpConsent& out, std::string_view s) {
  std::string json_text;
  if (!detail::base64_decode(s, json_text)) return b.fail("invalid base64");
  Value root;
  detail::json::Options options;
  options.max_bytes = max_cmp_consent_bytes;
  options.max_depth = 4;
  options.max_nodes = 2 * max_cmp_choices;
  if (const auto err = detail::json::parse(json_text, root, options); !err.empty()) return b.fail(err);
  if (root.kind != Kind::object) return b.fail("not a JSON object");
  bool saw_group = false;
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const std::string& key = root.keys[i];
    const Value& v = root.items[i];
    if (key == "purposes" || key == "vendors") {
      if (v.kind != Kind::object) return b.fail("purposes/vendors is not an object");
      saw_group = true;
      if (!didomi_list(b, v, "enabled", true) || !didomi_list(b, v, "disabled", false)) return false;
    } else if (key == "updated") {
      if (!json_timestamp(v, out.timestamp)) return b.fail("invalid timestamp");
    } else if (key == "created" && !out.timestamp) {
      if (!json_timestamp(v, out.timestamp)) return b.fail("invalid timestamp");
    }
  }
  if (!saw_group) return b.fail("no purposes or vendors");
  return true;
}

// Form-decoding: OneTrust writes its cookie with URLSearchParams, where '+' is a space.
bool form_decode(std::string_view in, std::string& out) {
  std::string plus;
  plus.reserve(in.size());
  for (const char c : in) plus.push_back(c == '+' ? ' ' : c);
  return detail::percent_decode(plus, out);
}

// JavaScript Date.prototype.toString(): "Mon Jan 15 2024 11:00:00 GMT+0100 (Central European Standard Time)".
bool parse_js_date(std::string_view s, std::int64_t& out) {
  static constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::array<std::string_view, 6> t{};
  std::size_t n = 0;
  std::size_t pos = 0;
  while (n < t.size() && pos < s.size()) {
    std::size_t end = s.find(' ', pos);
    if (end == std::string_view::npos) end = s.size();
    t[n++] = s.substr(pos, end - pos);
    pos = end + 1;
  }
  if (n < 6 || t[3].size() != 4 || t[4].size() != 8 || t[5].size() != 8 || t[5].substr(0, 3) != "GMT") return false;
  const auto month = std::find(months.begin(), months.end(), t[1]);
  if (month == months.end()) return false;
  if (t[2].empty() || t[2].size() > 2) return false;
  std::string iso;
  iso.append(t[3]).push_back('-');
  const auto m = static_cast<int>(month - months.begin()) + 1;
  iso.push_back(static_cast<char>('0' + m / 10));
  iso.push_back(static_cast<char>('0' + m % 10));
  iso.push_back('-');
  if (t[2].size() == 1) iso.push_back('0');
  iso.append(t[2]).push_back('T');
  iso.append(t[4]).append(t[5].substr(3));
  return parse_timestamp(iso, out);
}

bool parse_onetrust(Builder& b, CmpConsent& out, std::string_view s, bool& no_choice) {
  std::string_view groups_raw;
  bool saw_groups = false;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find('&', pos);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view param = s.substr(pos, end - pos);
    pos = end + 1;
    if (param.empty()) continue;
    const std::size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (name == "groups") {
      if (saw_groups) return b.fail("duplicate groups");
      saw_groups = true;
      groups_raw = value;
    } else if (name == "interactionCount") {
      no_choice = value == "0";
    } else if (name == "datestamp") {
      std::string date;
      std::int64_t ts = 0;
      // An unreadable datestamp only loses the "newer wins" comparison; the choice itself is intact.
      if (form_decode(value, date) && parse_js_date(date, ts)) out.timestamp = ts;
    }
  }
  if (!saw_groups) return b.fail("no groups");
  std::string groups;
  if (!form_decode(groups_raw, groups)) return b.fail("invalid percent-encoding");
  if (groups.empty()) return true;
  pos = 0;
  while (pos <= groups.size()) {
    std::size_t end = groups.find(',', pos);
    if (end == std::string::npos) end = groups.size();
    const std::string_view item = std::string_view(groups).substr(pos, end - pos);
    pos = end + 1;
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) return b.fail("group without a status");
    const std::string_view status = item.substr(colon + 1);
    if (status != "0" && status != "1") return b.fail("group status is not 0 or 1");
    if (!b.add(item.substr(0, colon), status == "1")) return false;
  }
  return true;
}

bool parse_cookiebot(Builder& b, CmpConsent& out, std::string_view s, bool& no_choice) {
  // "-1": Cookiebot decided no consent is needed in the visitor's region: not a choice.
  if (s == "-1") {
    no_choice = true;
    return true;
  }
  Value root;
  detail::json::Options options;
  options.max_bytes = max_cmp_consent_bytes;
  options.max_depth = 3;
  options.max_nodes = 2 * max_cmp_choices;
  options.js_literals = true;
  if (const auto err = detail::json::parse(s, root, options); !err.empty()) return b.fail(err);
  if (root.kind != Kind::object) return b.fail("not an object");
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const std::string& key = root.keys[i];
    const Value& v = root.items[i];
    if (v.kind == Kind::boolean) {
      if (!b.add(key, v.boolean)) return false;
    } else if (key == "necessary" || key == "preferences" || key == "statistics" || key == "marketing") {
      return b.fail("category value is not a boolean");
    } else if (key == "method") {
      if (v.kind == Kind::string && v.text == "implied") no_choice = true;
    } else if (key == "stamp") {
      if (v.kind == Kind::string && v.text == "-1") no_choice = true;
    } else if (key == "utc" && v.kind == Kind::number) {
      std::int64_t ms = 0;
      if (v.text.size() <= 15 &&
          std::all_of(v.text.begin(), v.text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        for (const char c : v.text) ms = ms * 10 + (c - '0');
        out.timestamp = ms / 1000;
      }
    }
  }
  return true;
}

// Axeptio and Klaro: a flat JSON object of name -> bool. Axeptio adds "$$"-prefixed metadata.
bool parse_flat_json(Builder& b, CmpConsent& out, std::string_view s, bool axeptio) {
  Value root;
  detail::json::Options options;
  options.max_bytes = max_cmp_consent_bytes;
  options.max_depth = 3;
  options.max_nodes = 2 * max_cmp_choices;
  if (const auto err = detail::json::parse(s, root, options); !err.empty()) return b.fail(err);
  if (root.kind != Kind::object) return b.fail("not a JSON object");
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const std::string& key = root.keys[i];
    const Value& v = root.items[i];
    if (axeptio && key.starts_with("$$")) {
      if (key == "$$date" && !json_timestamp(v, out.timestamp)) return b.fail("invalid timestamp");
      continue;
    }
    if (v.kind != Kind::boolean) return b.fail("choice is not a boolean");
    if (!b.add(key, v.boolean)) return false;
  }
  return true;
}

}  // namespace

std::optional<CmpFormat> cmp_format_from_name(std::string_view name) noexcept {
  for (const auto& [n, f] : format_names) {
    if (n == name) return f;
  }
  return std::nullopt;
}

std::string_view to_string(CmpFormat format) noexcept {
  for (const auto& [n, f] : format_names) {
    if (f == format) return n;
  }
  return "unknown";
}

std::optional<bool> CmpConsent::find(std::string_view key) const noexcept {
  const auto it = std::lower_bound(choices.begin(), choices.end(), key,
                                   [](const auto& c, std::string_view k) { return c.first < k; });
  if (it == choices.end() || it->first != key) return std::nullopt;
  return it->second;
}

CmpConsent parse_cmp_consent(CmpFormat format, std::string_view raw) {
  CmpConsent out;
  const auto malformed = [&out](std::string_view why) {
    out = CmpConsent{};
    out.status = CmpStatus::malformed;
    out.reason = why;
    return out;
  };
  if (raw.size() > max_cmp_consent_bytes) return malformed("too large");
  std::string_view s = trim(raw);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
  if (s.empty()) return malformed("empty");
  Builder b(out);
  bool no_choice = false;
  bool parsed = false;
  std::string buffer;
  // OneTrust's value is a query string whose parameters are each form-encoded: decoding it as a whole
  // first would let an encoded '&' or '=' inside a value split it.
  if (format != CmpFormat::onetrust && !maybe_percent_decode(s, buffer)) return malformed("invalid percent-encoding");
  if (s.empty()) return malformed("empty");
  switch (format) {
    case CmpFormat::tarteaucitron:
      parsed = parse_tarteaucitron(b, s);
      break;
    case CmpFormat::didomi:
      parsed = parse_didomi(b, out, s);
      break;
    case CmpFormat::onetrust:
      parsed = parse_onetrust(b, out, s, no_choice);
      break;
    case CmpFormat::cookiebot:
      parsed = parse_cookiebot(b, out, s, no_choice);
      break;
    case CmpFormat::axeptio:
      parsed = parse_flat_json(b, out, s, true);
      break;
    case CmpFormat::klaro:
      parsed = parse_flat_json(b, out, s, false);
      break;
  }
  if (!parsed || !b.finish()) return malformed(b.error());
  out.status = no_choice ? CmpStatus::no_choice : CmpStatus::ok;
  out.reason = no_choice ? std::string_view{"no choice recorded"} : std::string_view{};
  return out;
}

}  // namespace consent::policy
