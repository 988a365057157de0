#include "proxy/connect_to.hpp"

#include <charconv>
#include <utility>

#include "config/value_parsers.hpp"
#include "policy/host.hpp"

namespace consent::proxy {

namespace {

// "" -> 0 (any / keep); otherwise the value of a port config::valid_connect_to_port() accepted.
std::optional<std::uint16_t> port_value(std::string_view s) {
  if (s.empty()) return std::uint16_t{0};
  if (!config::valid_connect_to_port(s)) return std::nullopt;
  std::uint16_t value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

// Entries built in code (tests, older configs) may still bracket IPv6 literals; config's form has none.
std::string_view strip_brackets(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

// One grammar for the flag and the config file: config::parse_connect_to (config/value_parsers.hpp).
ConnectToParse parse_connect_to(std::string_view spec) {
  ConnectToParse result;
  result.value = config::parse_connect_to(spec, result.error);
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
      const auto normalised = config::valid_connect_to_host(host, /*allow_wildcard=*/true)
                                  ? policy::normalise_host(host.starts_with("*.") ? host.substr(2) : host)
                                  : std::nullopt;
      if (!normalised) {
        errors.push_back(where + "host " + config::quote(e.host) + " is not a host name, IP address or \"*.domain\"");
        ok = false;
      } else {
        rule.is_wildcard = host.starts_with("*.");
        rule.host = rule.is_wildcard ? "." + *normalised : *normalised;
      }
    }
    if (!e.to_host.empty()) {
      const std::string_view to_host = strip_brackets(e.to_host);
      const auto normalised = config::valid_connect_to_host(to_host, /*allow_wildcard=*/false)
                                  ? policy::normalise_host(to_host)
                                  : std::nullopt;
      if (!normalised) {
        errors.push_back(where + "connect-to host " + config::quote(e.to_host) + " is not a host name or IP address");
        ok = false;
      } else {
        rule.to_host = *normalised;
      }
    }
    if (const auto p = port_value(e.port)) {
      rule.port = *p;
    } else {
      errors.push_back(where + "port " + config::quote(e.port) + " is not in 1..65535");
      ok = false;
    }
    if (const auto p = port_value(e.to_port)) {
      rule.to_port = *p;
    } else {
      errors.push_back(where + "connect-to port " + config::quote(e.to_port) + " is not in 1..65535");
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
