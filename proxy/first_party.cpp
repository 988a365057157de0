#include "proxy/first_party.hpp"

#include <array>
#include <optional>
#include <utility>

#include "policy/host.hpp"

namespace consent::proxy {

namespace {

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Sec-Fetch-Dest values (Fetch Metadata, W3C) mapped to what chooses a surrogate.
std::optional<policy::FetchDest> dest_from_sec_fetch(std::string_view v) noexcept {
  using policy::FetchDest;
  static constexpr std::array<std::pair<std::string_view, FetchDest>, 23> table{{
      {"document", FetchDest::document},   {"iframe", FetchDest::iframe},
      {"frame", FetchDest::iframe},        {"embed", FetchDest::iframe},
      {"object", FetchDest::iframe},       {"fencedframe", FetchDest::iframe},
      {"script", FetchDest::script},       {"worker", FetchDest::script},
      {"sharedworker", FetchDest::script}, {"serviceworker", FetchDest::script},
      {"audioworklet", FetchDest::script}, {"paintworklet", FetchDest::script},
      {"image", FetchDest::image},         {"style", FetchDest::style},
      {"xslt", FetchDest::style},          {"empty", FetchDest::xhr},
      {"report", FetchDest::xhr},          {"audio", FetchDest::other},
      {"video", FetchDest::other},         {"track", FetchDest::other},
      {"font", FetchDest::other},          {"manifest", FetchDest::other},
      {"webidentity", FetchDest::other},
  }};
  v = trim(v);
  for (const auto& [name, dest] : table) {
    if (iequals(v, name)) return dest;
  }
  return std::nullopt;
}

// The first media range of Accept: browsers put the type they want first ("text/html,...", "image/avif,...").
std::optional<policy::FetchDest> dest_from_accept(std::string_view accept) noexcept {
  using policy::FetchDest;
  accept = trim(accept);
  const auto first = trim(accept.substr(0, accept.find_first_of(",;")));
  if (first.empty()) return std::nullopt;
  if (iequals(first, "text/html") || iequals(first, "application/xhtml+xml")) return FetchDest::document;
  if (iequals(first, "text/css")) return FetchDest::style;
  if (istarts_with(first, "image/")) return FetchDest::image;
  if (iequals(first, "application/javascript") || iequals(first, "text/javascript") ||
      iequals(first, "application/ecmascript")) {
    return FetchDest::script;
  }
  return std::nullopt;
}

std::optional<policy::FetchDest> dest_from_path(std::string_view path) noexcept {
  using policy::FetchDest;
  path = path.substr(0, path.find_first_of("?#"));
  const auto slash = path.rfind('/');
  const auto segment = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = segment.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto ext = segment.substr(dot + 1);
  static constexpr std::array<std::pair<std::string_view, FetchDest>, 15> table{{
      {"js", FetchDest::script},
      {"mjs", FetchDest::script},
      {"css", FetchDest::style},
      {"gif", FetchDest::image},
      {"png", FetchDest::image},
      {"jpg", FetchDest::image},
      {"jpeg", FetchDest::image},
      {"webp", FetchDest::image},
      {"avif", FetchDest::image},
      {"svg", FetchDest::image},
      {"ico", FetchDest::image},
      {"bmp", FetchDest::image},
      {"html", FetchDest::document},
      {"htm", FetchDest::document},
      {"php", FetchDest::unknown},
  }};
  for (const auto& [name, dest] : table) {
    if (iequals(ext, name)) return dest == FetchDest::unknown ? std::nullopt : std::optional{dest};
  }
  return std::nullopt;
}

std::string site_of_url(std::string_view url) {
  const std::string host = host_of_url(url);
  if (host.empty()) return {};
  return std::string(policy::registrable_domain(host));
}

}  // namespace

std::string_view to_string(SiteSource s) noexcept {
  switch (s) {
    case SiteSource::navigation:
      return "navigation";
    case SiteSource::origin:
      return "origin";
    case SiteSource::referer:
      return "referer";
    case SiteSource::sec_fetch_site:
      return "sec_fetch_site";
    case SiteSource::unknown:
      return "unknown";
  }
  return "unknown";
}

policy::FetchDest fetch_dest_of(std::string_view sec_fetch_dest, std::string_view accept,
                                std::string_view path) noexcept {
  if (!sec_fetch_dest.empty()) {
    if (const auto d = dest_from_sec_fetch(sec_fetch_dest)) return *d;
  }
  if (const auto d = dest_from_accept(accept)) return *d;
  if (const auto d = dest_from_path(path)) return *d;
  return policy::FetchDest::unknown;
}

std::string host_of_url(std::string_view url) {
  url = trim(url);
  std::string_view rest;
  if (istarts_with(url, "https://")) {
    rest = url.substr(8);
  } else if (istarts_with(url, "http://")) {
    rest = url.substr(7);
  } else {
    return {};
  }
  // WHATWG URL: for http(s) a backslash ends the authority like '/'.
  auto authority = rest.substr(0, rest.find_first_of("/\\?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return {};
  // normalise_host checks the port and the IPv6 brackets itself.
  auto normalised = policy::normalise_host(authority);
  return normalised ? std::move(*normalised) : std::string{};
}

FirstParty first_party_of(const FirstPartyInputs& in) {
  FirstParty fp;
  fp.dest = fetch_dest_of(in.sec_fetch_dest, in.accept, in.path);
  fp.has_referer = !trim(in.referer).empty();

  const bool has_fetch_metadata =
      !in.sec_fetch_mode.empty() || !in.sec_fetch_dest.empty() || !in.sec_fetch_site.empty();
  bool navigation = false;
  if (has_fetch_metadata) {
    const auto mode = trim(in.sec_fetch_mode);
    const auto dest = trim(in.sec_fetch_dest);
    // A document fetched in another mode (e.g. "cors" from fetch()) is not a navigation; a navigation
    // without Sec-Fetch-Dest (older Safari sent only the mode) is taken as top-level.
    navigation = (iequals(dest, "document") && (mode.empty() || iequals(mode, "navigate"))) ||
                 (dest.empty() && iequals(mode, "navigate"));
  } else {
    // Legacy clients: only a GET asking for HTML first looks like a page load.
    navigation = (in.method.empty() || in.method == "GET") &&
                 dest_from_accept(in.accept) == std::optional{policy::FetchDest::document};
  }

  if (navigation && !in.host.empty()) {
    fp.is_navigation = true;
    fp.source = SiteSource::navigation;
    fp.site = std::string(policy::registrable_domain(in.host));
    return fp;
  }
  const auto origin = trim(in.origin);
  if (!origin.empty() && origin != "null") {
    fp.site = site_of_url(origin);
    if (!fp.site.empty()) {
      fp.source = SiteSource::origin;
      return fp;
    }
  }
  if (fp.has_referer) {
    fp.site = site_of_url(in.referer);
    if (!fp.site.empty()) {
      fp.source = SiteSource::referer;
      return fp;
    }
  }
  const auto fetch_site = trim(in.sec_fetch_site);
  if (!in.host.empty() && (iequals(fetch_site, "same-origin") || iequals(fetch_site, "same-site"))) {
    fp.site = std::string(policy::registrable_domain(in.host));
    fp.source = SiteSource::sec_fetch_site;
    return fp;
  }
  fp.site.clear();
  fp.source = SiteSource::unknown;
  return fp;
}

}  // namespace consent::proxy
