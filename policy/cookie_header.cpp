#include "policy/cookie_header.hpp"

#include <algorithm>
#include <array>

namespace consent::policy {
namespace {

// RFC 6265 §5.4 joins pairs with "; ", but servers and scripts produce ";" alone, "; ;", tabs, and pairs
// without '='. We split on ';' only: ',' is not a separator for the Cookie header (it was in RFC 2965,
// which no browser sends), so a ',' stays in the value, as browsers keep it.
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// One non-empty, trimmed segment as a pair. A nameless pair gets an empty name positioned at the start
// of its segment so that detail::pair_bytes can recover the exact bytes sent ("=x" stays "=x" on rewrite).
CookiePair pair_of(std::string_view segment) noexcept {
  CookiePair pair;
  const std::size_t eq = segment.find('=');
  if (eq == std::string_view::npos) {
    // RFC 6265bis §5.6 step 2 of the set-cookie algorithm, mirrored by browsers for the request side:
    // no '=' means an empty name and the whole segment as value.
    pair.name = segment.substr(0, 0);
    pair.value = segment;
  } else {
    pair.name = trim(segment.substr(0, eq));
    if (pair.name.empty()) pair.name = segment.substr(0, 0);
    pair.value = trim(segment.substr(eq + 1));
    if (pair.value.empty()) pair.value = segment.substr(segment.size());
  }
  return pair;
}

// Calls on_pair(pair) for each pair in order, at most max_cookie_pairs times; stops early when on_pair
// returns false.
template <class OnPair>
void for_each_pair(std::string_view header, OnPair&& on_pair) noexcept {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < header.size() && count < max_cookie_pairs) {
    std::size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view segment = trim(header.substr(pos, end - pos));
    pos = end + 1;
    if (segment.empty()) continue;
    ++count;
    if (!on_pair(pair_of(segment))) return;
  }
}

}  // namespace

std::vector<CookiePair> parse_cookie_header(std::string_view header) {
  std::vector<CookiePair> pairs;
  for_each_pair(header, [&pairs](const CookiePair& pair) {
    pairs.push_back(pair);
    return true;
  });
  return pairs;
}

bool find_cookie(std::string_view header, std::string_view name, std::string_view& value) noexcept {
  bool found = false;
  for_each_pair(header, [&](const CookiePair& pair) {
    if (pair.name != name) return true;
    value = pair.value;
    found = true;
    return false;
  });
  return found;
}

std::uint64_t find_cookies(std::string_view header, std::span<const std::string> names,
                           std::span<std::string_view> values) noexcept {
  const std::size_t n = std::min({names.size(), values.size(), max_found_cookie_names});
  if (n == 0) return 0;
  const std::uint64_t all = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  std::uint64_t found = 0;
  const auto judge = [&](const CookiePair& pair) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t bit = std::uint64_t{1} << i;
      if ((found & bit) != 0 || pair.name != names[i]) continue;
      values[i] = pair.value;
      found |= bit;
    }
    return found != all;
  };
  // Most pairs of a Cookie header are not consent cookies, and a pair's first byte rules most of them
  // out: only pairs starting like one of the names are split and compared. Same segments, same count
  // towards max_cookie_pairs, same pair for the candidates as for_each_pair.
  std::array<bool, 256> starts{};
  for (std::size_t i = 0; i < n; ++i) {
    if (names[i].empty()) {  // the nameless pair's first byte is anything: read every pair
      for_each_pair(header, judge);
      return found;
    }
    starts[static_cast<unsigned char>(names[i].front())] = true;
  }
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < header.size() && count < max_cookie_pairs) {
    while (pos < header.size() && is_ows(header[pos])) ++pos;
    if (pos == header.size()) break;
    std::size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    if (end == pos) {  // an empty segment does not count
      ++pos;
      continue;
    }
    ++count;
    if (starts[static_cast<unsigned char>(header[pos])] && !judge(pair_of(trim(header.substr(pos, end - pos))))) break;
    pos = end + 1;
  }
  return found;
}

}  // namespace consent::policy
