#pragma once
// curl's --connect-to: "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" sends requests for HOST:PORT to
// another address without touching the system's resolver (staging set-ups, tests).
//
// Semantics
// - An empty HOST or PORT matches any host / any port. "*.example" matches every host strictly below
//   example (a.example, b.a.example), not "example" itself. Host matching is on normalised hosts
//   (lower-case, no trailing dot); IPv6 literals are written in brackets in the spec ("[::1]") and
//   matched without them.
// - An empty CONNECT-TO-HOST keeps the request's host, an empty CONNECT-TO-PORT keeps its port.
// - Rules are tried in the order given; the first match wins.
// - The Host header and TLS SNI still use the original host: only the TCP destination changes.
// Thread-safety: a ConnectToTable is immutable after build(); lookup() is const and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace consent::proxy {

struct ConnectToRule {
  std::string host;  // normalised; empty = any; "*.example" stored as ".example" with is_wildcard
  bool is_wildcard = false;
  std::uint16_t port = 0;     // 0 = any
  std::string to_host;        // empty = keep; IPv6 without brackets
  std::uint16_t to_port = 0;  // 0 = keep
};

struct ConnectToParse {
  std::optional<config::ConnectTo> value;  // split fields, brackets removed from IPv6 hosts
  std::string error;                       // set when value is empty
};

// Splits and checks "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" with the config file's parser
// (config::parse_connect_to, so the flag and the file accept the same text). Errors name the text:
// "\"a:1:b\" is not HOST:PORT:ADDRESS:PORT (e.g. \"tracker.example:443:127.0.0.1:8443\")".
[[nodiscard]] ConnectToParse parse_connect_to(std::string_view spec);

struct ConnectTarget {
  std::string_view host;  // points into the table, or into the host passed to lookup()
  std::uint16_t port = 0;
};

class ConnectToTable {
 public:
  ConnectToTable() = default;

  // Validates every entry (host syntax, wildcard shape, ports 1..65535) and appends one message per bad
  // entry to `errors`, e.g. "connect_to[2]: port \"70000\" is not in 1..65535". Bad entries are left out.
  [[nodiscard]] static ConnectToTable build(const std::vector<config::ConnectTo>& entries,
                                            std::vector<std::string>& errors);

  // `host` normalised, `port` the request's port. nullopt when no rule matches (connect as usual).
  [[nodiscard]] std::optional<ConnectTarget> lookup(std::string_view host, std::uint16_t port) const noexcept;

  [[nodiscard]] bool empty() const noexcept { return rules_.empty(); }
  [[nodiscard]] const std::vector<ConnectToRule>& rules() const noexcept { return rules_; }

 private:
  std::vector<ConnectToRule> rules_;
};

}  // namespace consent::proxy
