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
    std::uint32_t node = 0;
    for (char c : pattern.substr(0, star)) {
      auto& children = trie_[node].children;
      auto it = std::lower_bound(children.begin(), children.end(), c,
                                 [](const auto& edge, char b) { return edge.first < b; });
      if (it == children.end() || it->first != c) {
        const auto created = static_cast<std::uint32_t>(trie_.size());
        children.insert(it, {c, created});
        trie_.emplace_back();  // invalidates `children`: not used below
        node = created;
      } else {
        node = it->second;
      }
    }
    // A prefix pattern with an empty prefix ("*") was refused by cookie_pattern_error, so node != 0.
    trie_[node].values.push_back(value);
  } else {
    Glob glob;
    glob.value = value;
    const std::size_t last = pattern.rfind('*');
    glob.head = std::string(pattern.substr(0, star));
    glob.tail = std::string(pattern.substr(last + 1));
    const std::string_view inner = pattern.substr(star + 1, last - star);  // "" when one star; ends with '*'
    std::size_t pos = 0;
    while (pos < inner.size()) {
      const std::size_t next = inner.find('*', pos);
      if (next > pos) glob.middle.emplace_back(inner.substr(pos, next - pos));
      pos = next + 1;
    }
    glob.needs = bytes_of(pattern);
    glob.needs[static_cast<unsigned char>('*') >> 6] &= ~(std::uint64_t{1} << (static_cast<unsigned char>('*') & 63U));
    globs_.push_back(std::move(glob));
  }
  return std::nullopt;
}

std::uint32_t CookieMatcher::child(std::uint32_t node, char c) const noexcept {
  const auto& children = trie_[node].children;
  auto it =
      std::lower_bound(children.begin(), children.end(), c, [](const auto& edge, char b) { return edge.first < b; });
  return it != children.end() && it->first == c ? it->second : 0;
}

bool CookieMatcher::glob_matches(const Glob& glob, std::string_view name) noexcept {
  // With '*' as the only operator, matching each literal piece at its leftmost possible place is exact:
  // a later place never leaves more room for what follows. Linear in the name per piece, no backtracking.
  if (name.size() < glob.head.size() + glob.tail.size()) return false;
  if (!name.starts_with(glob.head) || !name.ends_with(glob.tail)) return false;
  std::string_view rest = name.substr(glob.head.size(), name.size() - glob.head.size() - glob.tail.size());
  for (const std::string& piece : glob.middle) {
    const std::size_t at = rest.find(piece);
    if (at == std::string_view::npos) return false;
    rest.remove_prefix(at + piece.size());
  }
  return true;
}

}  // namespace consent::policy
