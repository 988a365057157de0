// Fuzzes parse_cookie_header, find_cookie, find_cookies and rewrite_cookie_header; aborts when an invariant breaks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "policy/cookie_header.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool is_trimmed(std::string_view s) {
  const auto ows = [](char c) { return c == ' ' || c == '\t'; };
  return s.empty() || (!ows(s.front()) && !ows(s.back()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consent::policy;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto pairs = parse_cookie_header(input);
  check(pairs.size() <= max_cookie_pairs);
  for (const CookiePair& p : pairs) {
    check(p.name.find(';') == std::string_view::npos && p.value.find(';') == std::string_view::npos);
    check(p.name.find('=') == std::string_view::npos);
    check(is_trimmed(p.name) && is_trimmed(p.value));
    const std::string_view bytes = detail::pair_bytes(p);
    check(bytes.data() >= input.data() && bytes.data() + bytes.size() <= input.data() + input.size());
  }
  if (!pairs.empty()) {
    std::string_view value;
    check(find_cookie(input, pairs.front().name, value));
    check(value.data() == pairs.front().value.data() && value.size() == pairs.front().value.size());
  }
  // find_cookies (one pass, several names) agrees with find_cookie name by name, on names present and
  // absent ("" included: a nameless pair has one).
  std::vector<std::string> names;
  for (std::size_t i = 0; i < pairs.size() && names.size() < 6; i += 2) names.emplace_back(pairs[i].name);
  names.emplace_back("eu-consent");
  names.emplace_back("");
  std::vector<std::string_view> values(names.size());
  const std::uint64_t found = find_cookies(input, names, values);
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string_view one;
    const bool present = find_cookie(input, names[i], one);
    check(present == ((found >> i & 1U) != 0));
    if (present) check(one.data() == values[i].data() && one.size() == values[i].size());
  }
  // Keeping every pair and reparsing gives the same pairs: the rewrite loses no byte it keeps.
  const std::string kept = rewrite_cookie_header(input, [](const CookiePair&) { return false; });
  const auto reparsed = parse_cookie_header(kept);
  check(reparsed.size() == pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    check(reparsed[i].name == pairs[i].name && reparsed[i].value == pairs[i].value);
  }
  check(rewrite_cookie_header(input, [](const CookiePair&) { return true; }).empty());
  return 0;
}
