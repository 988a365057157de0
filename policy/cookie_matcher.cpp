#include "policy/cookie_matcher.hpp"

#include <algorithm>

namespace consent::policy {
namespace {

std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7F) return std::string("'") + c + "'";
  if (u == 0x20) return "' '";
  static constexpr char hex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xF];
}

// Browsers accept more than RFC 6265's token in names (Adobe's "AMCV_...@AdobeOrg" has '@'), so only what
// can never be part of a name on the wire is refused: controls, whitespace, and the pair/header delimiters.
bool is_name_byte(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && c != ';' && c != '=' && c != ',' && c != '"';
}

}  // namespace

std::optional<std::string> cookie_pattern_error(std::string_view pattern) {
  if (pattern.empty()) return "empty";
  if (pattern.size() > max_cookie_pattern_bytes)
    return "longer than " + std::to_string(max_cookie_pattern_bytes) + " bytes";
  bool has_literal = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*') continue;
    if (!is_name_byte(c)) return "invalid character " + describe_byte(c) + " at offset " + std::to_string(i);
    has_literal = true;
  }
  if (!has_literal) return "matches every cookie name";
  return std::nullopt;
}

std::optional<std::string> CookieMatcher::add(std::string_view pattern, std::uint32_t value) {
  if (auto error = cookie_pattern_error(pattern)) return error;
  ++pattern_count_;
  const std::size_t star = pattern.find('*');
  if (star == std::string_view::npos) {
    exact_[std::string(pattern)].push_back(value);
  } else if (star == pattern.size() - 1) {
    const std::string_view prefix = pattern.substr(0, star);
    prefixes_[std::string(prefix)].push_back(value);
    if (std::find(prefix_lengths_.begin(), prefix_lengths_.end(), prefix.size()) == prefix_lengths_.end()) {
      prefix_lengths_.push_back(prefix.size());
      std::sort(prefix_lengths_.begin(), prefix_lengths_.end(), std::greater<>());
    }
  } else {
    std::string collapsed;  // "a**b" == "a*b": keeps the matcher's backtracking linear in practice
    for (char c : pattern)
      if (c != '*' || collapsed.empty() || collapsed.back() != '*') collapsed += c;
    globs_.push_back({std::move(collapsed), value});
  }
  return std::nullopt;
}

bool CookieMatcher::glob_matches(std::string_view pattern, std::string_view name) noexcept {
  // Greedy with one backtrack point (the last '*'): O(pattern * name) at worst, patterns are short.
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace consent::policy
