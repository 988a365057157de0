#include "proxy/connect_to.hpp"

#include <utility>

#include "policy/host.hpp"

namespace consent::proxy {

namespace {

constexpr std::string_view expected_shape = "expected HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT";

// Takes one host field off the front of `rest`, up to the next ':' (or the end when `last`). IPv6 literals
// are in brackets because they contain ':'.
bool take_host(std::string_view& rest, std::string& out, std::string& error) {
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated '[' in host";
      return false;
    }
    out = std::string(rest.substr(1, close - 1));
    if (out.empty()) {
      error = "empty IPv6 literal \"[]\"";
      return false;
    }
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      error = "unexpected characters after ']'";
      return false;
    }
    return true;
  }
  const auto colon = rest.find(':');
  out = std::string(rest.substr(0, colon));
  rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
  return true;
}

bool take_colon(std::string_view& rest, std::string& error) {
  if (rest.empty() || rest.front() != ':') {
    error = std::string(expected_shape);
    return false;
  }
  rest.remove_prefix(1);
  return true;
}

void take_port(std::string_view& rest, std::string& out) {
  const auto colon = rest.find(':');
  out = std::string(rest.substr(0, colon));
  rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
}

// "" -> 0 (any / keep); otherwise 1..65535 in plain decimal.
std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty()) return std::uint16_t{0};
  if (s.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::string_view strip_brackets(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
      out.push_back('?');  // diagnostics go to a terminal: no control characters
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

ConnectToParse parse_connect_to(std::string_view spec) {
  ConnectToParse result;
  config::ConnectTo value;
  std::string_view rest = spec;
  std::string& error = result.error;
  if (!take_host(rest, value.host, error) || !take_colon(rest, error)) return result;
  take_port(rest, value.port);
  if (!take_colon(rest, error) || !take_host(rest, value.to_host, error) || !take_colon(rest, error)) return result;
  take_port(rest, value.to_port);
  if (!rest.empty()) {
    result.error = std::string(expected_shape) + " (too many ':'; write IPv6 addresses in brackets)";
    return result;
  }
  result.value = std::move(value);
  return result;
}

ConnectToTable ConnectToTable::build(const std::vector<config::ConnectTo>& entries, std::vector<std::string>& errors) {
  ConnectToTable table;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string where = "connect_to[" + std::to_string(i) + "]: ";
    ConnectToRule rule;
    bool ok = true;
    if (!e.host.empty()) {
      std::string_view host = strip_brackets(e.host);
      if (host.starts_with("*.")) {
        rule.is_wildcard = true;
        host.remove_prefix(2);
      }
      const auto normalised = policy::normalise_host(host);
      if (!normalised || host.find('*') != std::string_view::npos) {
        errors.push_back(where + "host " + quoted(e.host) + " is not a host name, IP address or \"*.domain\"");
        ok = false;
      } else {
        rule.host = rule.is_wildcard ? "." + *normalised : *normalised;
      }
    }
    if (!e.to_host.empty()) {
      const auto normalised = policy::normalise_host(strip_brackets(e.to_host));
      if (!normalised) {
        errors.push_back(where + "connect-to host " + quoted(e.to_host) + " is not a host name or IP address");
        ok = false;
      } else {
        rule.to_host = *normalised;
      }
    }
    if (const auto p = parse_port(e.port)) {
      rule.port = *p;
    } else {
      errors.push_back(where + "port " + quoted(e.port) + " is not in 1..65535");
      ok = false;
    }
    if (const auto p = parse_port(e.to_port)) {
      rule.to_port = *p;
    } else {
      errors.push_back(where + "connect-to port " + quoted(e.to_port) + " is not in 1..65535");
      ok = false;
    }
    if (ok) table.rules_.push_back(std::move(rule));
  }
  return table;
}

std::optional<ConnectTarget> ConnectToTable::lookup(std::string_view host, std::uint16_t port) const noexcept {
  for (const auto& rule : rules_) {
    if (rule.port != 0 && rule.port != port) continue;
    if (!rule.host.empty()) {
      if (rule.is_wildcard) {
        // rule.host is ".example": the host must end with it and have a non-empty label before it.
        if (host.size() <= rule.host.size() || !host.ends_with(rule.host)) continue;
      } else if (host != rule.host) {
        continue;
      }
    }
    ConnectTarget target;
    target.host = rule.to_host.empty() ? host : std::string_view{rule.to_host};
    target.port = rule.to_port == 0 ? port : rule.to_port;
    return target;
  }
  return std::nullopt;
}

}  // namespace consent::proxy
