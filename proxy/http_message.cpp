#include "proxy/http_message.hpp"

#include <llhttp.h>

namespace consent::proxy {
namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 3986 reg-name: unreserved / pct-encoded / sub-delims.
bool is_reg_name(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_alpha(c) || is_digit(c)) continue;
    switch (c) {
      case '-':
      case '.':
      case '_':
      case '~':
      case '!':
      case '$':
      case '&':
      case '\'':
      case '(':
      case ')':
      case '*':
      case '+':
      case ',':
      case ';':
      case '=':
        continue;
      case '%':
        if (i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
          i += 2;
          continue;
        }
        return false;
      default:
        return false;
    }
  }
  return true;
}

// Loose IPv6 check (hex digits, ':' and '.' for an embedded IPv4, at least two colons); the resolver has the
// final word, this only keeps delimiters and garbage out of the Host we write.
bool is_ipv6_literal(std::string_view s) noexcept {
  if (s.size() < 2) return false;
  std::size_t colons = 0;
  for (char c : s) {
    if (c == ':') {
      ++colons;
    } else if (!is_hex(c) && c != '.') {
      return false;
    }
  }
  return colons >= 2;
}

constexpr bool ieq_prefix(std::string_view s, std::string_view lower_prefix) noexcept {
  if (s.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view method_name(Method m) noexcept {
  return llhttp_method_name(static_cast<llhttp_method_t>(static_cast<std::uint8_t>(m)));
}

std::optional<Authority> parse_authority(std::string_view text, std::uint16_t default_port) noexcept {
  Authority a;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    a.host = text.substr(1, close - 1);
    if (!is_ipv6_literal(a.host)) return std::nullopt;
    a.is_ipv6 = true;
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    a.host = text.substr(0, colon);
    if (a.host.empty() || !is_reg_name(a.host)) return std::nullopt;
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) {
    a.port = default_port;
    return a;
  }
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
  unsigned port = 0;
  for (char c : rest.substr(1)) {
    if (!is_digit(c)) return std::nullopt;
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port == 0 || port > 65535) return std::nullopt;
  a.port = static_cast<std::uint16_t>(port);
  a.has_port = true;
  return a;
}

std::optional<RequestTarget> parse_request_target(std::string_view target, Method method) noexcept {
  RequestTarget t;
  if (target.empty()) return std::nullopt;
  if (target.find('#') != std::string_view::npos) return std::nullopt;  // RFC 9112 3.2: no fragment on the wire
  if (method == Method::connect) {
    // RFC 9112 section 3.2.3: authority-form, port required, only for CONNECT.
    t.form = TargetForm::authority;
    auto a = parse_authority(target, 0);
    if (!a || !a->has_port) return std::nullopt;
    t.authority_text = target;
    t.authority = *a;
    return t;
  }
  if (target == "*") {
    if (method != Method::options) return std::nullopt;
    t.form = TargetForm::asterisk;
    return t;
  }
  if (target.front() == '/') {
    t.form = TargetForm::origin;
    t.path_and_query = target;
    return t;
  }
  std::uint16_t default_port = 80;
  std::string_view rest;
  if (ieq_prefix(target, "http://")) {
    rest = target.substr(7);
  } else if (ieq_prefix(target, "https://")) {
    rest = target.substr(8);
    t.is_https = true;
    default_port = 443;
  } else {
    return std::nullopt;
  }
  const auto end = rest.find_first_of("/?");
  const auto authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // userinfo: RFC 9110 4.2.4 "deprecated"
  auto a = parse_authority(authority, default_port);
  if (!a) return std::nullopt;
  t.form = TargetForm::absolute;
  t.authority_text = authority;
  t.authority = *a;
  t.path_and_query = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  return t;
}

std::optional<Authority> RequestHead::authority(std::uint16_t default_port) const noexcept {
  const auto t = parsed_target();
  if (t && (t->form == TargetForm::absolute || t->form == TargetForm::authority)) return t->authority;
  if (!headers.contains("Host")) return std::nullopt;
  return parse_authority(headers.get("Host"), default_port);
}

std::string_view RequestHead::authority_text() const noexcept {
  const auto t = parsed_target();
  if (t && (t->form == TargetForm::absolute || t->form == TargetForm::authority)) return t->authority_text;
  return headers.get("Host");
}

void RequestHead::clear() noexcept {
  method = Method::get;
  target.clear();
  version = 11;
  headers.clear();
  framing = {};
  keep_alive = true;
  is_upgrade = false;
  is_websocket = false;
  expect_100_continue = false;
}

void ResponseHead::clear() noexcept {
  version = 11;
  status = 200;
  reason.clear();
  headers.clear();
  framing = {};
  keep_alive = true;
  is_upgrade = false;
}

}  // namespace consent::proxy
