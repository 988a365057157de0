// Fuzzes the URL pre-filter (policy/url_prefilter.hpp) against plain RE2: the input is up to four
// patterns and a URL, one per line. Every valid pattern must match exactly when a plain RE2::Set does,
// through UrlMatcher (pre-filter + set), and each literal required_literals() names must really be
// required: a pattern that matches the URL contains one of its literals, ASCII case aside.
#include <re2/re2.h>
#include <re2/set.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "policy/url_matcher.hpp"
#include "policy/url_prefilter.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consent::policy;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  while (lines.size() < 5) {
    const std::size_t nl = input.find('\n');
    lines.push_back(input.substr(0, nl));
    if (nl == std::string_view::npos) break;
    input.remove_prefix(nl + 1);
  }
  if (lines.size() < 2) return 0;
  const std::string_view url = lines.back();
  lines.pop_back();
  const std::size_t slash = url.find('/');
  const std::string_view host = url.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);

  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(max_url_set_memory_bytes);
  RE2::Set reference(options, RE2::UNANCHORED);
  UrlMatcher matcher;
  bool any = false;
  for (std::string_view pattern : lines) {
    if (matcher.add(pattern, 0)) continue;
    check(reference.Add(re2::StringPiece(pattern.data(), pattern.size()), nullptr) >= 0);
    any = true;
    const RE2 alone(re2::StringPiece(pattern.data(), pattern.size()), options);
    const auto literals = required_literals(pattern);
    if (!literals) continue;
    check(!literals->empty());
    for (const std::string& l : *literals) check(l.size() >= min_prefilter_literal_bytes && lower(l) == l);
    const std::string text = std::string(host) + std::string(path);
    if (!RE2::PartialMatch(text, alone)) continue;
    const std::string folded = lower(text);
    bool contains = false;
    for (const std::string& l : *literals) contains = contains || folded.find(l) != std::string::npos;
    check(contains);
  }
  if (!any) return 0;
  check(!matcher.compile());
  check(reference.Compile());
  const bool expected = reference.Match(re2::StringPiece(url.data(), url.size()), nullptr);
  check(matcher.matches(host, path) == expected);
  std::vector<std::uint32_t> values;
  matcher.match(host, path, values);
  check(values.empty() != expected);
  return 0;
}
