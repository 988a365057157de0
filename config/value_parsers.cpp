#include "config/value_parsers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <vector>

#include "policy/host.hpp"

namespace consent::config {
namespace {

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::uint64_t> to_u64(std::string_view digits) noexcept {
  if (!all_digits(digits)) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::optional<std::uint16_t> to_port(std::string_view digits, std::uint64_t min) noexcept {
  auto v = to_u64(digits);
  if (!v || *v < min || *v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

struct Address {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
};

std::optional<Address> parse_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);  // inet_pton wants a NUL-terminated string
  Address a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

std::string format_ip(const Address& a) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  inet_ntop(a.family, a.bytes.data(), buf.data(), static_cast<socklen_t>(buf.size()));
  return std::string(buf.data());
}

// A connect-to field: a bracketed IPv6 literal, or anything up to the next ':'.
bool take_field(std::string_view& rest, std::string& out, bool last) {
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    auto inside = rest.substr(1, close - 1);
    auto ip = parse_ip(inside);
    if (!ip || ip->family != AF_INET6) return false;
    out.assign(inside);
    rest.remove_prefix(close + 1);
    if (last) return rest.empty();
    if (rest.empty() || rest.front() != ':') return false;
    rest.remove_prefix(1);
    return true;
  }
  if (last) {
    out.assign(rest);
    rest = {};
    return true;
  }
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) return false;
  out.assign(rest.substr(0, colon));
  rest.remove_prefix(colon + 1);
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error) {
  const auto fail = [&] {
    error = "expected a duration such as \"15s\", \"500ms\" or \"5m\" (0 disables), got " + quote(text);
    return std::nullopt;
  };
  if (text == "0") return std::chrono::milliseconds{0};
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  auto number = to_u64(text.substr(0, i));
  if (!number) return fail();
  auto unit = text.substr(i);
  std::uint64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  else
    return fail();
  // Ten years is far beyond any sensible timeout or lifetime, and keeps every sum of durations finite.
  constexpr std::uint64_t max_ms = 10ULL * 366 * 86'400'000;
  if (*number > max_ms / scale) {
    error = "duration " + quote(text) + " is longer than ten years";
    return std::nullopt;
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(*number * scale)};
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text, std::string& error) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  auto number = to_u64(text.substr(0, i));
  auto unit = text.substr(i);
  std::uint64_t scale = 0;
  if (unit.empty())
    scale = 1;
  else if (unit == "KiB")
    scale = 1024;
  else if (unit == "MiB")
    scale = 1024 * 1024;
  else if (unit == "GiB")
    scale = 1024 * 1024 * 1024;
  if (!number || scale == 0 || *number > std::numeric_limits<std::uint64_t>::max() / scale) {
    error = "expected a size such as 65536, \"64KiB\" or \"1MiB\", got " + quote(text);
    return std::nullopt;
  }
  return *number * scale;
}

std::optional<std::string> parse_listen(std::string_view text, std::string& error) {
  const auto fail = [&] {
    error = quote(text) + " is not ADDRESS:PORT with an IP address (e.g. \"127.0.0.1:8080\", \"[::1]:8080\")";
    return std::nullopt;
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return fail();
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    auto ip = parse_ip(host);
    if (!ip || ip->family != AF_INET6) return fail();
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail();
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    auto ip = parse_ip(host);
    if (!ip || ip->family != AF_INET) return fail();
  }
  if (!to_port(port, 0)) return fail();
  return std::string(text);
}

std::optional<std::string> parse_cidr(std::string_view text, std::string& error) {
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  const unsigned max_prefix = ip && ip->family == AF_INET ? 32U : 128U;
  std::optional<std::uint64_t> prefix = max_prefix;
  if (slash != std::string_view::npos) prefix = to_u64(text.substr(slash + 1));
  if (!ip || !prefix || *prefix > max_prefix) {
    error = quote(text) + " is not an IP network in CIDR notation (e.g. \"192.168.0.0/16\", \"fd00::/8\")";
    return std::nullopt;
  }
  Address network = *ip;
  const std::size_t bytes = max_prefix / 8;
  for (std::size_t bit = *prefix; bit < bytes * 8; ++bit) {
    network.bytes[bit / 8] = static_cast<unsigned char>(network.bytes[bit / 8] & ~(0x80U >> (bit % 8)));
  }
  std::string canonical = format_ip(network) + "/" + std::to_string(*prefix);
  if (!std::equal(network.bytes.begin(), network.bytes.begin() + static_cast<std::ptrdiff_t>(bytes),
                  ip->bytes.begin())) {
    error = quote(text) + " has host bits set; did you mean " + quote(canonical) + "?";
    return std::nullopt;
  }
  return canonical;
}

bool valid_connect_to_host(std::string_view host, bool allow_wildcard) {
  if (host.empty()) return true;
  // A ':' can only be part of an IPv6 literal: normalise_host() would otherwise read it as a port.
  if (host.find(':') != std::string_view::npos) {
    auto ip = parse_ip(host);
    return ip && ip->family == AF_INET6;
  }
  if (allow_wildcard && host.starts_with("*.")) host.remove_prefix(2);
  return host.find('*') == std::string_view::npos && policy::normalise_host(host).has_value();
}

bool valid_connect_to_port(std::string_view port) noexcept { return port.empty() || to_port(port, 1).has_value(); }

std::optional<ConnectTo> parse_connect_to(std::string_view text, std::string& error) {
  ConnectTo rule;
  std::string_view rest = text;
  bool ok = take_field(rest, rule.host, false) && take_field(rest, rule.port, false) &&
            take_field(rest, rule.to_host, false) && take_field(rest, rule.to_port, true);
  ok = ok && valid_connect_to_port(rule.port) && valid_connect_to_port(rule.to_port);
  if (!ok) {
    error = quote(text) + " is not HOST:PORT:ADDRESS:PORT (e.g. \"tracker.example:443:127.0.0.1:8443\")";
    return std::nullopt;
  }
  if (!valid_connect_to_host(rule.host, true)) {
    error = quote(text) + ": " + quote(rule.host) + " is not a host name, IP address or \"*.domain\"";
    return std::nullopt;
  }
  if (!valid_connect_to_host(rule.to_host, false)) {
    error = quote(text) + ": " + quote(rule.to_host) + " is not a host name or IP address";
    return std::nullopt;
  }
  return rule;
}

std::optional<OriginUrl> parse_origin_url(std::string_view text, std::string& error) {
  const auto fail = [&](std::string_view why) {
    error = quote(text) + " is not an origin URL \"http(s)://HOST[:PORT]\"" + std::string(why) +
            " (e.g. \"http://127.0.0.1:3000\")";
    return std::nullopt;
  };
  const auto lower_starts = [&](std::string_view prefix) {
    return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(), [](char p, char c) {
             return p == (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
           });
  };
  OriginUrl out;
  std::string_view rest;
  if (lower_starts("https://")) {
    out.is_tls = true;
    rest = text.substr(8);
  } else if (lower_starts("http://")) {
    rest = text.substr(7);
  } else {
    return fail("");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    // The visitor's own path and query are forwarded as they are: a path prefix here would be ignored.
    return fail(" with no user info, path, query or fragment");
  }
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return fail("");
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') return fail("");
    if (!after.empty()) port = after.substr(1);
    auto ip = parse_ip(host);
    if (!ip || ip->family != AF_INET6) return fail("");
    if (!after.empty() && port.empty()) return fail("");
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return fail("");
    }
  }
  if (host.empty() || host.find('*') != std::string_view::npos) return fail("");
  auto normalised = policy::normalise_host(host);
  if (!normalised) return fail("");
  out.host = std::move(*normalised);
  if (port.empty()) {
    out.port = out.is_tls ? 443 : 80;
  } else if (auto p = to_port(port, 1)) {
    out.port = *p;
  } else {
    error = quote(text) + ": the port must be from 1 to 65535";
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> parse_route_host(std::string_view text, std::string& error) {
  const auto fail = [&] {
    error = quote(text) + " is not a host name, IP address or \"*.domain\" (without a port)";
    return std::nullopt;
  };
  std::string_view host = text;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const bool wildcard = host.starts_with("*.");
  if (wildcard) host.remove_prefix(2);
  if (host.empty() || host.find('*') != std::string_view::npos) return fail();
  // normalise_host() would silently strip a port: a ':' is only valid inside an IPv6 literal.
  if (host.find(':') != std::string_view::npos) {
    auto ip = parse_ip(host);
    if (!ip || ip->family != AF_INET6 || wildcard) return fail();
  }
  auto normalised = policy::normalise_host(host);
  if (!normalised) return fail();
  if (wildcard && policy::is_ip_literal(*normalised)) return fail();
  return wildcard ? "*." + *normalised : *normalised;
}

std::optional<std::string> parse_csp_source(std::string_view text, std::string& error) {
  constexpr std::array<std::string_view, 7> keywords{
      "'self'",          "'unsafe-inline'",  "'unsafe-eval'",     "'none'",
      "'unsafe-hashes'", "'strict-dynamic'", "'wasm-unsafe-eval'"};
  if (std::find(keywords.begin(), keywords.end(), text) != keywords.end()) return std::string(text);
  const auto fail = [&] {
    error = quote(text) +
            " is not a CSP source (a host such as \"cdn.example\" or \"https://*.cdn.example\", \"data:\", or a "
            "keyword such as \"'self'\")";
    return std::nullopt;
  };
  const auto is_source_char = [](char c) {
    return c > ' ' && c < 0x7f && c != ';' && c != ',' && c != '\'' && c != '"' && c != '\\';
  };
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_source_char)) return fail();
  const auto is_scheme_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
           c == '.';
  };
  const auto every_host = [&] {
    error = quote(text) + " would allow every host, and so every tracker, whatever the consent";
    return std::nullopt;
  };
  if (text.back() == ':') {
    auto scheme = text.substr(0, text.size() - 1);
    if (scheme.empty() || !std::all_of(scheme.begin(), scheme.end(), is_scheme_char)) return fail();
    // Local schemes carry no host; any other scheme source (https:, wss:) matches every host.
    constexpr std::array<std::string_view, 4> local{"data", "blob", "mediastream", "filesystem"};
    std::string lower(scheme);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    if (std::find(local.begin(), local.end(), lower) == local.end()) return every_host();
    return std::string(text);
  }
  std::string_view rest = text;
  if (auto sep = rest.find("://"); sep != std::string_view::npos) {
    auto scheme = rest.substr(0, sep);
    if (scheme.empty() || !std::all_of(scheme.begin(), scheme.end(), is_scheme_char)) return fail();
    rest.remove_prefix(sep + 3);
  }
  auto host = rest.substr(0, std::min(rest.find('/'), rest.find(':')));
  auto after = rest.substr(host.size());
  if (after.starts_with(':')) {
    auto port =
        after.substr(1, after.find('/') == std::string_view::npos ? std::string_view::npos : after.find('/') - 1);
    if (port != "*" && !to_port(port, 1)) return fail();
  }
  if (host == "*") return every_host();
  if (host.starts_with("*.")) host.remove_prefix(2);
  if (host.empty() || host.find('*') != std::string_view::npos) return fail();
  if (!policy::normalise_host(host)) return fail();
  return std::string(text);
}

bool valid_origin_header_name(std::string_view name) noexcept {
  // tchar, RFC 9110 section 5.6.2.
  const auto is_tchar = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), is_tchar)) return false;
  constexpr std::array<std::string_view, 14> reserved{
      "host",    "content-length", "transfer-encoding", "connection", "keep-alive",      "te",     "trailer",
      "upgrade", "cookie",         "set-cookie",        "forwarded",  "x-forwarded-for", "expect", "authorization"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (lower.starts_with("proxy-") || lower.starts_with("x-forwarded-")) return false;
  return std::find(reserved.begin(), reserved.end(), lower) == reserved.end();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Keys are short; cap the work so a pathological key cannot make loading quadratic in a big way.
  if (a.size() > 64 || b.size() > 64) return std::max(a.size(), b.size());
  const std::size_t w = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * w);
  for (std::size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t best = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, d[(i - 2) * w + j - 2] + 1);
      }
      d[i * w + j] = best;
    }
  }
  return d[a.size() * w + b.size()];
}

std::string_view suggest(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (auto c : candidates) {
    auto dist = edit_distance(word, c);
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  // A third of the length (at least one edit, at most three) separates typos from different words.
  const std::size_t allowed = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  return best_distance <= allowed ? best : std::string_view{};
}

std::string quote(std::string_view text) {
  constexpr std::size_t max_shown = 80;
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    // Cut only before a character's first byte, so a truncated UTF-8 sequence never reaches a terminal.
    if (shown >= max_shown && (u & 0xC0U) != 0x80U) {
      out += "...";
      break;
    }
    ++shown;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      constexpr std::string_view hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace consent::config
