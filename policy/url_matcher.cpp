#include "policy/url_matcher.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "policy/url_prefilter.hpp"

namespace consent::policy {
namespace {

RE2::Options url_options() {
  RE2::Options o;
  o.set_log_errors(false);  // RE2::Quiet: errors become diagnostics, never stderr
  o.set_max_mem(max_url_set_memory_bytes);
  return o;
}

}  // namespace

struct UrlMatcher::Impl {
  RE2::Set set{url_options(), RE2::UNANCHORED};
  bool compiled = false;
  // Pre-filter (url_prefilter.hpp): literals of the filtered patterns, and the patterns without one,
  // which run as their own small set on every URL. When the scanner could not be built, every URL
  // runs the whole set, as without a pre-filter.
  std::vector<std::string> literals;
  std::vector<std::string> unfiltered;
  LiteralScanner scanner;
  std::unique_ptr<RE2::Set> unfiltered_set;
  bool filtering = false;

  // False when no pattern can match (the pre-filter's "certainly not"); true means "run the set".
  [[nodiscard]] bool may_match(std::string_view host, std::string_view path_and_query) const noexcept;
};

UrlMatcher::UrlMatcher() : impl_(std::make_unique<Impl>()) {}
UrlMatcher::~UrlMatcher() = default;
UrlMatcher::UrlMatcher(UrlMatcher&&) noexcept = default;
UrlMatcher& UrlMatcher::operator=(UrlMatcher&&) noexcept = default;

std::optional<std::string> UrlMatcher::add(std::string_view pattern, std::uint32_t value) {
  if (pattern.empty()) return "empty";
  if (pattern.size() > max_url_pattern_bytes) return "longer than " + std::to_string(max_url_pattern_bytes) + " bytes";
  const re2::StringPiece piece(pattern.data(), pattern.size());
  {
    // Compiled alone first: RE2::Set reports only the first failure and cannot tell which pattern blew
    // the program size budget.
    const RE2 alone(piece, url_options());
    if (!alone.ok()) return "not a valid RE2 pattern (" + alone.error() + ")";
    if (alone.ProgramSize() > max_url_pattern_program_size)
      return "too complex (RE2 program size " + std::to_string(alone.ProgramSize()) + ", limit " +
             std::to_string(max_url_pattern_program_size) + ")";
  }
  std::string error;
  if (impl_->set.Add(piece, &error) < 0) return "not a valid RE2 pattern (" + error + ")";
  values_.push_back(value);
  if (auto literals = required_literals(pattern)) {
    for (std::string& l : *literals) impl_->literals.push_back(std::move(l));
  } else {
    impl_->unfiltered.emplace_back(pattern);
  }
  return std::nullopt;
}

std::optional<std::string> UrlMatcher::compile() {
  if (values_.empty()) return std::nullopt;
  if (!impl_->set.Compile())
    return "the URL patterns together exceed the RE2 memory budget of " + std::to_string(max_url_set_memory_bytes) +
           " bytes";
  impl_->compiled = true;
  Impl& m = *impl_;
  std::sort(m.literals.begin(), m.literals.end());
  m.literals.erase(std::unique(m.literals.begin(), m.literals.end()), m.literals.end());
  if (!m.literals.empty() && !m.scanner.build(m.literals)) return std::nullopt;  // too big: no pre-filter
  if (!m.unfiltered.empty()) {
    m.unfiltered_set = std::make_unique<RE2::Set>(url_options(), RE2::UNANCHORED);
    for (const std::string& u : m.unfiltered)
      if (m.unfiltered_set->Add(u, nullptr) < 0) return std::nullopt;  // cannot happen: the whole set took it
    if (!m.unfiltered_set->Compile()) return std::nullopt;
  }
  m.filtering = true;
  m.literals = {};
  m.unfiltered = {};
  return std::nullopt;
}

namespace {

// host + path_and_query into `buffer`, truncated to its size; returns the length used.
std::size_t join_url(std::string_view host, std::string_view path_and_query,
                     std::array<char, max_url_match_bytes>& buffer) noexcept {
  const std::size_t h = std::min(host.size(), buffer.size());
  std::memcpy(buffer.data(), host.data(), h);
  const std::size_t p = std::min(path_and_query.size(), buffer.size() - h);
  if (p > 0) std::memcpy(buffer.data() + h, path_and_query.data(), p);
  return h + p;
}

// host and path_and_query cut to the head the set matches on (join_url), so that the pre-filter reads
// exactly the bytes RE2 would.
std::pair<std::string_view, std::string_view> matched_head(std::string_view host,
                                                           std::string_view path_and_query) noexcept {
  host = host.substr(0, max_url_match_bytes);
  return {host, path_and_query.substr(0, max_url_match_bytes - host.size())};
}

}  // namespace

bool UrlMatcher::Impl::may_match(std::string_view host, std::string_view path_and_query) const noexcept {
  if (!filtering) return true;
  const auto [h, p] = matched_head(host, path_and_query);
  if (scanner.occurs_in(h, p)) return true;
  if (!unfiltered_set) return false;
  std::array<char, max_url_match_bytes> buffer;
  const std::size_t n = join_url(host, path_and_query, buffer);
  return unfiltered_set->Match(re2::StringPiece(buffer.data(), n), nullptr);
}

bool UrlMatcher::matches(std::string_view host, std::string_view path_and_query) const noexcept {
  if (!impl_->compiled || !impl_->may_match(host, path_and_query)) return false;
  std::array<char, max_url_match_bytes> buffer;
  const std::size_t n = join_url(host, path_and_query, buffer);
  // Without an output vector RE2::Set runs the DFA only and allocates nothing beyond its bounded cache.
  return impl_->set.Match(re2::StringPiece(buffer.data(), n), nullptr);
}

void UrlMatcher::match(std::string_view host, std::string_view path_and_query,
                       std::vector<std::uint32_t>& values) const {
  if (!impl_->compiled || !impl_->may_match(host, path_and_query)) return;
  std::array<char, max_url_match_bytes> buffer;
  const std::size_t n = join_url(host, path_and_query, buffer);
  std::vector<int> hits;
  if (!impl_->set.Match(re2::StringPiece(buffer.data(), n), &hits)) return;
  std::sort(hits.begin(), hits.end());
  for (int i : hits) values.push_back(values_[static_cast<std::size_t>(i)]);
}

}  // namespace consent::policy
