#include "report/allow_rule.hpp"

#include <algorithm>
#include <array>

#include "report/analyzer.hpp"

namespace consent::report {

namespace {

constexpr std::array<std::string_view, 7> key_names = {"kind", "site", "host", "purpose", "rule", "reason", "cookie"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view s) noexcept {
  // Classic two-pointer wildcard match: on a mismatch, retry from the last '*' one character further.
  std::size_t p = 0, i = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = i;
    } else if (p < pattern.size() && pattern[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool AllowRule::matches(const LogRecord& r, std::string_view kind) const {
  for (const auto& c : conditions) {
    bool ok = false;
    switch (c.key) {
      case Key::kind:
        ok = glob_match(c.pattern, kind);
        break;
      case Key::site:
        ok = glob_match(c.pattern, lower(r.site));
        break;
      case Key::host:
        ok = glob_match(c.pattern, lower(r.host));
        break;
      case Key::purpose:
        ok = glob_match(c.pattern, r.purpose);
        break;
      case Key::rule:
        ok = glob_match(c.pattern, r.rule);
        break;
      case Key::reason:
        ok = glob_match(c.pattern, r.reason);
        break;
      case Key::cookie:
        ok = std::any_of(r.cookies.begin(), r.cookies.end(), [&](const auto& n) { return glob_match(c.pattern, n); });
        break;
    }
    if (!ok) return false;
  }
  return true;
}

std::optional<AllowRule> parse_allow_rule(std::string_view text, std::string& error) {
  const auto fail = [&](std::string message) -> std::optional<AllowRule> {
    error = std::move(message) + " in allow rule \"" + std::string(text) + "\"";
    return std::nullopt;
  };
  AllowRule rule;
  rule.text = std::string(text);
  if (text.empty()) return fail("empty rule");
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view part = text.substr(start, comma - start);
    start = comma + 1;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return fail("\"" + std::string(part) + "\" is not KEY=VALUE");
    const std::string_view key = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    const auto k = std::find(key_names.begin(), key_names.end(), key);
    if (k == key_names.end()) {
      return fail("unknown key \"" + std::string(key) + "\" (keys: kind, site, host, purpose, rule, reason, cookie)");
    }
    const auto which = static_cast<AllowRule::Key>(k - key_names.begin());
    if (value.empty()) return fail("empty value for \"" + std::string(key) + "\"");
    if (std::any_of(rule.conditions.begin(), rule.conditions.end(), [&](const auto& c) { return c.key == which; })) {
      return fail("duplicate key \"" + std::string(key) + "\"");
    }
    if (which == AllowRule::Key::kind && value.find('*') == std::string_view::npos && !parse_kind(value)) {
      std::string known;
      for (std::size_t i = 0; i < kind_count; ++i) {
        if (i != 0) known += ", ";
        known += to_string(static_cast<ViolationKind>(i));
      }
      return fail("unknown kind \"" + std::string(value) + "\" (kinds: " + known + ")");
    }
    const bool folds_case = which == AllowRule::Key::site || which == AllowRule::Key::host;
    rule.conditions.push_back({which, folds_case ? lower(value) : std::string(value)});
    if (comma == text.size()) break;
  }
  return rule;
}

}  // namespace consent::report
