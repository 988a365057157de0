#include "proxy/csp.hpp"

#include <algorithm>
#include <array>

#include "policy/host.hpp"

namespace consent::proxy {
namespace {

constexpr std::string_view ascii_whitespace = " \t\n\f\r";

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) noexcept {
  const auto first = s.find_first_not_of(ascii_whitespace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(ascii_whitespace);
  return s.substr(first, last - first + 1);
}

template <class F>
void split(std::string_view s, char sep, F&& each) {
  while (true) {
    const auto at = s.find(sep);
    if (!each(s.substr(0, at))) return;
    if (at == std::string_view::npos) return;
    s.remove_prefix(at + 1);
  }
}

CspPolicy parse_policy(std::string_view text) {
  CspPolicy policy;
  split(text, ';', [&](std::string_view token) {
    token = trim(token);
    if (token.empty()) return true;
    const auto end = token.find_first_of(ascii_whitespace);
    auto name = to_lower(token.substr(0, end));
    // CSP3 section 2.2.1: a directive name is ALPHA / DIGIT / "-"; anything else is skipped.
    const bool valid_name = std::all_of(
        name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
    if (!valid_name || policy.find(name) != nullptr) return true;
    CspDirective d;
    d.name = std::move(name);
    auto rest = end == std::string_view::npos ? std::string_view{} : token.substr(end);
    while (!rest.empty() && d.sources.size() < max_csp_sources) {
      const auto start = rest.find_first_not_of(ascii_whitespace);
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      const auto stop = rest.find_first_of(ascii_whitespace);
      d.sources.emplace_back(rest.substr(0, stop));
      rest = stop == std::string_view::npos ? std::string_view{} : rest.substr(stop);
    }
    policy.directives.push_back(std::move(d));
    return policy.directives.size() < max_csp_directives;
  });
  return policy;
}

// The host part of a host-source ("https://*.a.example:443/x" -> "*.a.example"), lower case.
std::string source_host(std::string_view source) {
  if (auto scheme = source.find("://"); scheme != std::string_view::npos) source.remove_prefix(scheme + 3);
  const auto end = source.find_first_of(":/");
  return to_lower(source.substr(0, end));
}

bool source_allows(std::string_view source, std::string_view host, std::string_view self_host) {
  if (iequal(source, "'self'")) return host == self_host;
  if (source == "*") return true;
  if (source.starts_with('\'') || source.ends_with(':')) return false;  // other keywords, scheme sources
  const auto pattern = source_host(source);
  if (pattern.starts_with("*.")) {
    const std::string_view suffix = std::string_view(pattern).substr(1);
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return pattern == host;
}

}  // namespace

const CspDirective* CspPolicy::find(std::string_view name) const noexcept {
  for (const auto& d : directives) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::vector<CspPolicy> parse_csp(std::string_view value) {
  std::vector<CspPolicy> out;
  split(value, ',', [&](std::string_view text) {
    auto policy = parse_policy(text);
    if (!policy.directives.empty()) out.push_back(std::move(policy));
    return out.size() < max_csp_policies;
  });
  return out;
}

bool is_html_content_type(std::string_view content_type) noexcept {
  const auto media = trim(content_type.substr(0, content_type.find(';')));
  return iequal(media, "text/html") || iequal(media, "application/xhtml+xml");
}

void append_host_sources(std::string_view domain_pattern, std::string& out) {
  out += ' ';
  out += domain_pattern;
  if (!domain_pattern.starts_with("*.")) {
    out += " *.";
    out += domain_pattern;
  }
}

ConsentCsp build_consent_csp(const ConsentCspInput& in) {
  // The hosts every directive allows; the fixed keywords differ by directive.
  std::string hosts;
  if (!in.site.empty() && !policy::is_ip_literal(in.site)) {
    append_host_sources(in.site, hosts);
  } else if (!in.site.empty() && in.site.find(':') == std::string_view::npos) {
    hosts += ' ';
    hosts += in.site;  // an IPv4 site; IPv6 literals are not host-sources, 'self' covers them
  }
  for (auto source : in.allow) {
    hosts += ' ';
    hosts += source;
  }
  static constexpr std::array<std::string_view, 4> prefixes{
      "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob: data:",
      "; img-src 'self' blob: data:",
      "; connect-src 'self' blob: data:",
      "; frame-src 'self' blob: data:",
  };
  std::size_t fixed = 0;
  for (auto p : prefixes) fixed += p.size();
  if (!in.report_uri.empty()) fixed += std::string_view("; report-uri ").size() + in.report_uri.size();
  const auto size_with = [&](std::size_t host_bytes) { return fixed + 4 * host_bytes; };

  ConsentCsp out;
  std::string group;
  for (const auto& patterns : in.purpose_hosts) {
    group.clear();
    for (auto pattern : patterns) append_host_sources(pattern, group);
    if (size_with(hosts.size() + group.size()) > in.max_bytes) {
      ++out.purposes_left_out;
      continue;
    }
    hosts += group;
  }
  out.value.reserve(size_with(hosts.size()));
  for (auto p : prefixes) {
    out.value += p;
    out.value += hosts;
  }
  if (!in.report_uri.empty()) {
    out.value += "; report-uri ";
    out.value += in.report_uri;
  }
  return out;
}

bool csp_allows_host(const CspPolicy& policy, std::string_view directive, std::string_view host,
                     std::string_view self_host) {
  const CspDirective* d = policy.find(directive);
  if (d == nullptr && directive == "frame-src") d = policy.find("child-src");
  if (d == nullptr) d = policy.find("default-src");
  if (d == nullptr) return true;
  return std::any_of(d->sources.begin(), d->sources.end(),
                     [&](const std::string& s) { return source_allows(s, host, self_host); });
}

}  // namespace consent::proxy
