#include "policy/host.hpp"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace consent::policy {
namespace {

// A Host header or authority longer than this is not worth an IDNA conversion: even in U-labels a
// valid host cannot need four bytes per A-label byte.
constexpr std::size_t max_raw_host_bytes = 4 * max_host_bytes;
constexpr std::size_t max_label_bytes = 63;

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// '_' is accepted because browsers accept it in hosts (real sites use "foo_bar.example.com" sub-domains)
// and rejecting it would break those sites without protecting anyone; DNS itself carries any byte.
constexpr bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == '.';
}

// RFC 3986 port = *DIGIT; we also bound it to 65535 so "host:99999999999" is not a valid authority.
bool is_valid_port(std::string_view port) noexcept {
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (const char c : port) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

// Strict dotted-decimal: four parts 0..255 without leading zeros. Browsers canonicalise the WHATWG
// shorthand forms ("0x7f.1", "010.0.0.1") before sending, so anything else that ends in a number is
// refused rather than guessed (a wrong guess could put a tracker on another site's allow-list).
bool is_canonical_ipv4(std::string_view s) noexcept {
  int parts = 0;
  std::size_t pos = 0;
  while (true) {
    std::size_t n = 0;
    unsigned value = 0;
    while (pos + n < s.size() && is_digit(s[pos + n]) && n < 4) {
      value = value * 10 + static_cast<unsigned>(s[pos + n] - '0');
      ++n;
    }
    if (n == 0 || n > 3 || value > 255 || (n > 1 && s[pos] == '0')) return false;
    ++parts;
    pos += n;
    if (pos == s.size()) return parts == 4;
    if (s[pos] != '.' || parts == 4) return false;
    ++pos;
  }
}

// Writes the RFC 5952 text form (what inet_ntop prints) of an IPv6 literal; false if it is not one.
// inet_pton/inet_ntop are pure libc conversions: no I/O, no locale.
bool canonical_ipv6(std::string_view s, std::string& out) {
  std::array<char, INET6_ADDRSTRLEN + 1> in{};
  if (s.empty() || s.size() >= in.size() || s.find('\0') != std::string_view::npos) return false;
  std::memcpy(in.data(), s.data(), s.size());
  unsigned char addr[16];
  if (inet_pton(AF_INET6, in.data(), addr) != 1) return false;
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(AF_INET6, addr, text.data(), static_cast<socklen_t>(text.size())) == nullptr) return false;
  out = text.data();
  return true;
}

// Converts U-labels to A-labels (IDNA 2008 with UTS #46 non-transitional mapping, as current browsers
// do: "faß.de" becomes "xn--fa-hia.de", not "fass.de"). Non-UTF-8 or disallowed code points give false.
bool to_a_labels(std::string_view host, std::string& out) {
  if (host.find('\0') != std::string_view::npos) return false;  // idn2 would stop there and accept a prefix
  const std::string input(host);  // idn2 wants NUL termination; only non-ASCII hosts get here
  uint8_t* converted = nullptr;
  const int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input.c_str()), &converted,
                                IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK || converted == nullptr) {
    idn2_free(converted);
    return false;
  }
  out = reinterpret_cast<const char*>(converted);
  idn2_free(converted);
  return true;
}

bool has_valid_labels(std::string_view host) noexcept {
  if (host.empty() || host.size() > max_host_bytes) return false;
  std::size_t label = 0;
  for (const char c : host) {
    if (!is_host_char(c)) return false;
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > max_label_bytes) {
      return false;
    }
  }
  return label != 0;
}

// WHATWG URL "ends in a number": such a host must be an IPv4 address or nothing.
bool ends_in_number(std::string_view host) noexcept {
  const std::size_t dot = host.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) return true;
  for (const char c : last) {
    if (!is_digit(c)) return false;
  }
  return !last.empty();
}

// The one PSL context, built once. psl_builtin() is compiled into libpsl (Debian's has it, checked at
// 0.21.2), so policy/ reads no file. Only a libpsl built without data makes us fall back to
// psl_latest(), which reads /usr/share/publicsuffix once: the single file read allowed in policy/,
// done at first use (startup) rather than per request.
const psl_ctx_t* psl_context() noexcept {
  static const psl_ctx_t* const ctx = []() -> const psl_ctx_t* {
    if (const psl_ctx_t* builtin = psl_builtin()) return builtin;
    return psl_latest(nullptr);
  }();
  return ctx;
}

}  // namespace

std::optional<std::string> normalise_host(std::string_view raw) {
  if (raw.empty() || raw.size() > max_raw_host_bytes) return std::nullopt;
  std::string out;
  if (raw.front() == '[') {
    const std::size_t close = raw.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view after = raw.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || !is_valid_port(after.substr(1)))) return std::nullopt;
    if (!canonical_ipv6(raw.substr(1, close - 1), out)) return std::nullopt;
    return out;
  }
  std::string_view name = raw;
  const std::size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    if (name.find(':', colon + 1) != std::string_view::npos) {
      // Two colons: only a bare IPv6 literal (some clients omit the brackets when no port follows).
      if (!canonical_ipv6(name, out)) return std::nullopt;
      return out;
    }
    if (!is_valid_port(name.substr(colon + 1))) return std::nullopt;
    name = name.substr(0, colon);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // the FQDN form names the same host
  if (name.empty()) return std::nullopt;

  bool is_ascii = true;
  for (const char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) is_ascii = false;
  }
  if (is_ascii) {
    out.assign(name);
  } else if (!to_a_labels(name, out)) {
    return std::nullopt;
  }
  for (char& c : out) c = to_lower(c);
  if (!has_valid_labels(out)) return std::nullopt;
  if (ends_in_number(out) && !is_canonical_ipv4(out)) return std::nullopt;
  return out;
}

bool is_ip_literal(std::string_view host) noexcept {
  if (is_canonical_ipv4(host)) return true;
  if (host.find(':') == std::string_view::npos) return false;
  std::array<char, INET6_ADDRSTRLEN + 1> in{};
  if (host.size() >= in.size() || host.find('\0') != std::string_view::npos) return false;
  std::memcpy(in.data(), host.data(), host.size());
  unsigned char addr[16];
  return inet_pton(AF_INET6, in.data(), addr) == 1;
}

std::string_view registrable_domain(std::string_view host) noexcept {
  const psl_ctx_t* ctx = psl_context();
  if (ctx == nullptr || host.empty() || host.size() > max_host_bytes || is_ip_literal(host) ||
      host.find('\0') != std::string_view::npos) {
    return host;
  }
  // libpsl wants a C string; a stack copy keeps this call free of allocation.
  std::array<char, max_host_bytes + 1> buf{};
  std::memcpy(buf.data(), host.data(), host.size());
  const char* domain = psl_registrable_domain(ctx, buf.data());
  if (domain == nullptr) return host;  // the host is itself a public suffix
  return host.substr(static_cast<std::size_t>(domain - buf.data()));
}

bool is_public_suffix(std::string_view domain) noexcept {
  const psl_ctx_t* ctx = psl_context();
  if (ctx == nullptr || domain.empty() || domain.size() > max_host_bytes || domain.find('\0') != std::string_view::npos)
    return false;
  std::array<char, max_host_bytes + 1> buf{};
  std::memcpy(buf.data(), domain.data(), domain.size());
  return psl_is_public_suffix(ctx, buf.data()) != 0;
}

bool is_third_party(std::string_view host, std::string_view first_party) noexcept {
  if (first_party.empty() || host.empty()) return true;
  // Both sides go through the PSL so a caller passing the page's host ("www.example.com") instead of its
  // registrable domain still gets the right answer.
  return registrable_domain(host) != registrable_domain(first_party);
}

std::optional<UrlParts> parse_http_url(std::string_view url) {
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return std::nullopt;
  }
  const auto strip_scheme = [&url](std::string_view scheme) {
    if (url.size() < scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
      if (to_lower(url[i]) != scheme[i]) return false;
    url.remove_prefix(scheme.size());
    return true;
  };
  if (!strip_scheme("https://") && !strip_scheme("http://") && url.find("://") != std::string_view::npos)
    return std::nullopt;
  const std::size_t authority_end = std::min(url.find_first_of("/?#"), url.size());
  const std::string_view authority = url.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  auto host = normalise_host(authority);
  if (!host || host->empty()) return std::nullopt;
  std::string_view rest = url.substr(authority_end);
  rest = rest.substr(0, rest.find('#'));
  UrlParts parts;
  parts.host = std::move(*host);
  if (rest.empty() || rest.front() == '?') parts.path_and_query = "/";
  parts.path_and_query += rest;
  return parts;
}

}  // namespace consent::policy
