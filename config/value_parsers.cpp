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
