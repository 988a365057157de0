#pragma once
// The first-party site of a request, and what the fetch is for. Pure functions, no allocation beyond
// the returned site string; thread-safe.
//
// Rules (issue 3), in order:
// 1. Top-level navigation -> the registrable domain of the request's own host. A navigation is
//    Sec-Fetch-Dest: document (with Sec-Fetch-Mode navigate or absent), or Sec-Fetch-Mode: navigate
//    without Sec-Fetch-Dest; or, for a client that sends no Sec-Fetch-* header at all (old browsers,
//    mail clients), a GET whose Accept starts with text/html.
// 2. Else Origin (http/https only; "null" counts as absent).
//    A nested navigation (Sec-Fetch-Dest iframe/frame/embed/object/fencedframe) is NOT its own first
//    party: its parent page is the site, known only from Origin/Referer.
// 3. Else the Referer's registrable domain (http/https only).
// 4. Else Sec-Fetch-Site: same-origin / same-site says the initiator is on the request host's own site
//    (a page with Referrer-Policy: no-referrer still gets its first-party subresources judged by its site).
// 5. Else unknown: empty site (no site, no consent for non-exempt purposes).
// Origin/Referer hosts go through policy::normalise_host; anything it rejects counts as absent.
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/request.hpp"

namespace consent::proxy {

// The request headers first_party_of() reads; empty view = header absent. Views are read during the call.
struct FirstPartyInputs {
  std::string_view method;
  std::string_view host;  // normalised request host (policy::normalise_host)
  std::string_view path;  // origin-form path (may carry a query)
  std::string_view sec_fetch_mode;
  std::string_view sec_fetch_dest;
  std::string_view sec_fetch_site;
  std::string_view origin;
  std::string_view referer;
  std::string_view accept;
};

enum class SiteSource : std::uint8_t { navigation, origin, referer, sec_fetch_site, unknown };
[[nodiscard]] std::string_view to_string(SiteSource s) noexcept;

struct FirstParty {
  std::string site;  // registrable domain; empty = unknown
  SiteSource source = SiteSource::unknown;
  bool is_navigation = false;  // top-level navigation (fill policy::Request::is_navigation)
  policy::FetchDest dest = policy::FetchDest::unknown;
  bool has_referer = false;
};

[[nodiscard]] FirstParty first_party_of(const FirstPartyInputs& in);

// Sec-Fetch-Dest when present and known; else guessed from Accept, then from the path's extension.
[[nodiscard]] policy::FetchDest fetch_dest_of(std::string_view sec_fetch_dest, std::string_view accept,
                                              std::string_view path) noexcept;

// The normalised host of an http(s) URL or origin ("https://a.example:8443/x" -> "a.example");
// empty when it has another scheme or no valid host. Userinfo is ignored.
[[nodiscard]] std::string host_of_url(std::string_view url);

}  // namespace consent::proxy
