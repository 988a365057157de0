#include "proxy/client_acl.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

namespace consent::proxy {

namespace {

ClientAcl::V6 mapped(const ClientAcl::V4& v4) noexcept {
  ClientAcl::V6 v6{};
  v6[10] = 0xFF;
  v6[11] = 0xFF;
  std::memcpy(v6.data() + 12, v4.data(), 4);
  return v6;
}

struct Parsed {
  ClientAcl::V6 address{};
  bool is_v4 = false;
};

// inet_pton is strict (no octal, no shorthand "10.1", no zone ids), which is what a config wants.
std::optional<Parsed> parse_address(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Parsed p;
  ClientAcl::V4 v4{};
  if (::inet_pton(AF_INET, buf, v4.data()) == 1) {
    p.address = mapped(v4);
    p.is_v4 = true;
    return p;
  }
  if (text.find(':') != std::string_view::npos && ::inet_pton(AF_INET6, buf, p.address.data()) == 1) return p;
  return std::nullopt;
}

bool prefix_matches(const ClientAcl::V6& a, const ClientAcl::V6& prefix, unsigned bits) noexcept {
  const unsigned full = bits / 8;
  for (unsigned i = 0; i < full; ++i) {
    if (a[i] != prefix[i]) return false;
  }
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFFU << (8 - rest));
  return (a[full] & mask) == (prefix[full] & mask);
}

ClientAcl::V6 masked(ClientAcl::V6 a, unsigned bits) noexcept {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = bits >= (i + 1) * 8 ? 8 : (bits > i * 8 ? bits - i * 8 : 0);
    a[i] = static_cast<unsigned char>(a[i] & static_cast<unsigned char>(0xFF00U >> keep));
  }
  return a;
}

std::string format(const ClientAcl::V6& a, bool is_v4) {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4) {
    ::inet_ntop(AF_INET, a.data() + 12, buf, sizeof buf);
  } else {
    ::inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
  }
  return buf;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s.substr(0, 128)) out.push_back(c < 0x20 || c == 0x7F || c == '"' || c == '\\' ? '?' : c);
  out.push_back('"');
  return out;
}

}  // namespace

ClientAcl ClientAcl::build(const std::vector<std::string>& cidrs, std::vector<std::string>& errors) {
  ClientAcl acl;
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    const std::string where = "allowed_clients[" + std::to_string(i) + "]: " + quoted(cidrs[i]);
    std::string_view text = cidrs[i];
    const auto slash = text.find('/');
    const auto parsed = parse_address(text.substr(0, slash));
    if (!parsed) {
      errors.push_back(where + " is not an IPv4 or IPv6 address or network");
      continue;
    }
    const unsigned max_bits = parsed->is_v4 ? 32 : 128;
    unsigned bits = max_bits;
    if (slash != std::string_view::npos) {
      const auto digits = text.substr(slash + 1);
      bool ok = !digits.empty() && digits.size() <= 3;
      unsigned value = 0;
      for (const char c : digits) {
        if (c < '0' || c > '9') ok = false;
        value = value * 10 + static_cast<unsigned>(c - '0');
      }
      if (!ok || value > max_bits) {
        errors.push_back(where + " has a prefix length that is not in 0.." + std::to_string(max_bits));
        continue;
      }
      bits = value;
    }
    const unsigned v6_bits = parsed->is_v4 ? 96 + bits : bits;
    const auto network = masked(parsed->address, v6_bits);
    if (network != parsed->address) {
      errors.push_back(where + " has host bits set (did you mean " + format(network, parsed->is_v4) + "/" +
                       std::to_string(bits) + "?)");
      continue;
    }
    acl.networks_.push_back(Network{network, v6_bits});
  }
  return acl;
}

bool ClientAcl::allows(const V6& address) const noexcept {
  for (const auto& n : networks_) {
    if (prefix_matches(address, n.prefix, n.bits)) return true;
  }
  return false;
}

bool ClientAcl::allows(const V4& address) const noexcept { return allows(mapped(address)); }

bool ClientAcl::allows(std::string_view address) const noexcept {
  const auto parsed = parse_address(address);
  return parsed && allows(parsed->address);
}

}  // namespace consent::proxy
