#pragma once
// Content-Security-Policy for gateway mode (issue 6): pure functions over header values.
//
// The gateway never edits an origin's policy. Browsers enforce every policy they receive (CSP3 section
// 4.1: a resource loads only if all of them allow it), so the gateway ADDS one more policy: the result
// can only be stricter than what the origin sent, never looser. Our policy restricts hosts only, in
// script-src, img-src, connect-src and frame-src: 'self', the site's own hosts, the hosts of purposes the
// visitor consented to (and exempt ones), and the operator's csp_allow. It allows inline code and eval
// ('unsafe-inline' 'unsafe-eval'), data: and blob:, because its job is consent, not XSS: the origin's own
// policy, if any, still governs those.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace consent::proxy {

struct CspDirective {
  std::string name;  // lower case
  std::vector<std::string> sources;
};

struct CspPolicy {
  std::vector<CspDirective> directives;
  // The directive by name (lower case), or nullptr.
  [[nodiscard]] const CspDirective* find(std::string_view name) const noexcept;
};

// Named limits on parsing an origin's header (CSP3 section 2.2.1 parsing rules otherwise).
inline constexpr std::size_t max_csp_policies = 16;
inline constexpr std::size_t max_csp_directives = 64;
inline constexpr std::size_t max_csp_sources = 1024;  // per directive

// Parses one Content-Security-Policy header value: policies separated by ',', directives by ';',
// sources by ASCII whitespace. A repeated directive name is ignored, as browsers do. Empty policies
// are dropped. Past the limits, the rest is ignored.
[[nodiscard]] std::vector<CspPolicy> parse_csp(std::string_view value);

// True when the media type of a Content-Type value is text/html or application/xhtml+xml.
[[nodiscard]] bool is_html_content_type(std::string_view content_type) noexcept;

// A policy domain pattern as CSP host sources: "example.com" -> "example.com *.example.com" (the
// pattern covers subdomains), "*.example.com" -> "*.example.com". Appended to `out` with a leading space.
void append_host_sources(std::string_view domain_pattern, std::string& out);

struct ConsentCspInput {
  std::string_view site;                // registrable domain of the visited host: its hosts are first party
  std::vector<std::string_view> allow;  // operator's csp_allow (route's, then global): always included
  // Domain patterns grouped by purpose, in the order to include them (exempt purposes first). A group is
  // included whole or not at all, so a purpose is never half-allowed.
  std::vector<std::vector<std::string_view>> purpose_hosts;
  std::string_view report_uri;        // empty: no report-uri directive
  std::size_t max_bytes = 32 * 1024;  // budget of the whole header value
};

struct ConsentCsp {
  std::string value;
  std::size_t purposes_left_out = 0;  // groups that did not fit the budget: not allowed (fail closed)
};

// Builds the gateway's policy (see the top of this file).
[[nodiscard]] ConsentCsp build_consent_csp(const ConsentCspInput& in);

// Whether `policy` lets a page on `self_host` load from `host` for `directive` ("script-src", "img-src",
// "connect-src", "frame-src"), by host only (schemes, ports and paths are not compared; keywords other
// than 'self' and 'none' are ignored). Fallbacks per CSP3 section 6.8.3 (frame-src -> child-src ->
// default-src; the others -> default-src); no applicable directive allows. For tests and reports.
[[nodiscard]] bool csp_allows_host(const CspPolicy& policy, std::string_view directive, std::string_view host,
                                   std::string_view self_host);

}  // namespace consent::proxy
