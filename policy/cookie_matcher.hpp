#pragma once
// Cookie-name patterns, matched case-sensitively (cookie names are):
//   exact   "_gid"          hash map, O(name length)
//   prefix  "_ga_*"         one '*', at the end: a byte trie walked once along the name, O(name length)
//   glob    "*_fbp", "AMP_*_token"   '*' anywhere (any run, even empty); few, checked last, each in
//                           O(name length) (literal pieces found left to right)
// Matches come in tiers, most specific first: exact, then prefixes from the longest, then globs.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace consent::policy {

inline constexpr std::size_t max_cookie_pattern_bytes = 256;  // named limit on one pattern

// nullopt when valid, else the reason in words, as used in
//   "a b" is not a cookie-name pattern (invalid character ' ' at offset 1)
[[nodiscard]] std::optional<std::string> cookie_pattern_error(std::string_view pattern);

class CookieMatcher {
 public:
  enum class Tier : std::uint8_t { exact, prefix, glob };

  // Returns the reason when the pattern is invalid (nothing added). Several values may share a pattern.
  std::optional<std::string> add(std::string_view pattern, std::uint32_t value);

  // Calls visit(value, tier) for every pattern matching `name`, tier by tier (exact, longest prefix first,
  // globs). visit returns true when it counted the match; after the first tier in which some match was
  // counted, no less specific tier is visited. Never allocates.
  template <class Visit>
  void match(std::string_view name, Visit&& visit) const;

  [[nodiscard]] std::size_t size() const noexcept { return pattern_count_; }

 private:
  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using Table = std::unordered_map<std::string, std::vector<std::uint32_t>, TransparentHash, std::equal_to<>>;
  using ByteSet = std::array<std::uint64_t, 4>;
  [[nodiscard]] static ByteSet bytes_of(std::string_view s) noexcept {
    ByteSet set{};
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      set[u >> 6] |= std::uint64_t{1} << (u & 63U);
    }
    return set;
  }
  struct Glob {
    std::string head;                 // literal before the first '*'
    std::string tail;                 // literal after the last '*'
    std::vector<std::string> middle;  // literals between stars, in order
    std::uint32_t value;
    ByteSet needs;  // every literal byte: a name lacking one cannot match, whatever the order
  };
  struct TrieNode {
    std::vector<std::pair<char, std::uint32_t>> children;  // sorted by byte
    std::vector<std::uint32_t> values;                     // prefixes ending here
  };

  [[nodiscard]] static bool glob_matches(const Glob& glob, std::string_view name) noexcept;
  [[nodiscard]] std::uint32_t child(std::uint32_t node, char c) const noexcept;  // 0 = none (root is never a child)

  Table exact_;
  std::vector<TrieNode> trie_{TrieNode{}};  // [0] is the root: the empty prefix
  std::vector<Glob> globs_;
  std::size_t pattern_count_ = 0;
};

template <class Visit>
void CookieMatcher::match(std::string_view name, Visit&& visit) const {
  bool counted = false;
  if (!exact_.empty()) {
    if (auto it = exact_.find(name); it != exact_.end())
      for (std::uint32_t v : it->second) counted = visit(v, Tier::exact) || counted;
    if (counted) return;
  }
  // Prefixes: one walk down the trie, then the nodes passed that end a prefix, longest first.
  std::array<std::uint32_t, max_cookie_pattern_bytes> path;
  std::size_t depth = 0;
  std::uint32_t node = 0;
  for (std::size_t i = 0; i < name.size() && depth < path.size(); ++i) {
    node = child(node, name[i]);
    if (node == 0) break;
    if (!trie_[node].values.empty()) path[depth++] = node;
  }
  while (depth-- > 0)
    for (std::uint32_t v : trie_[path[depth]].values) counted = visit(v, Tier::prefix) || counted;
  if (counted) return;
  if (globs_.empty()) return;
  const ByteSet present = bytes_of(name);
  for (const Glob& g : globs_) {
    if ((g.needs[0] & ~present[0]) != 0 || (g.needs[1] & ~present[1]) != 0 || (g.needs[2] & ~present[2]) != 0 ||
        (g.needs[3] & ~present[3]) != 0)
      continue;
    if (glob_matches(g, name)) visit(g.value, Tier::glob);
  }
}

}  // namespace consent::policy
