#pragma once
// `--allow` rules: accepted exceptions. A rule is one or more KEY=VALUE conditions joined by ',' that
// must all hold, e.g. "host=cdn.example", "purpose=audience-measurement,site=news.example",
// "rule=google-analytics/*", "kind=consent_cookie_too_long". Keys: kind, site, host, purpose, rule,
// reason, cookie (any of the line's cookie names). VALUE is a glob where '*' matches any run of
// characters (dots and slashes included); site and host compare case-insensitively. docs/report.md.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/log_record.hpp"

namespace consent::report {

struct AllowRule {
  enum class Key : std::uint8_t { kind, site, host, purpose, rule, reason, cookie };
  struct Condition {
    Key key;
    std::string pattern;  // lower-cased for site and host
  };
  std::string text;  // as given, for the summary
  std::vector<Condition> conditions;

  // `kind` is the violation kind name (see analyzer.hpp) the record was classified as.
  [[nodiscard]] bool matches(const LogRecord& r, std::string_view kind) const;
};

// nullopt with `error` set, e.g. `unknown key "hots" in allow rule "hots=x" (keys: kind, site, host,
// purpose, rule, reason, cookie)`.
[[nodiscard]] std::optional<AllowRule> parse_allow_rule(std::string_view text, std::string& error);

// '*' matches any run of characters; everything else matches itself. Iterative, linear-ish (no
// backtracking blow-up on hostile patterns).
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view s) noexcept;

}  // namespace consent::report
