#include "proxy/client_acl.hpp"

#include <arpa/inet.h>

#include <cassert>
#include <charconv>
#include <cstring>
#include <optional>

#include "config/value_parsers.hpp"

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

}  // namespace

ClientAcl ClientAcl::build(const std::vector<std::string>& cidrs, std::vector<std::string>& errors) {
  ClientAcl acl;
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    // One grammar for every CIDR of the settings (config/value_parsers.hpp): the canonical form it returns
    // has a valid address, a prefix in range and no host bits, so what is left here is the v6 mapping.
    std::string error;
    const auto canonical = config::parse_cidr(cidrs[i], error);
    if (!canonical) {
      errors.push_back("allowed_clients[" + std::to_string(i) + "]: " + error);
      continue;
    }
    const auto slash = canonical->find('/');
    const auto parsed = parse_address(std::string_view(*canonical).substr(0, slash));
    unsigned bits = 0;
    const auto digits = std::string_view(*canonical).substr(slash + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    assert(parsed && slash != std::string::npos);  // config::parse_cidr's contract
    if (!parsed) continue;
    acl.networks_.push_back(Network{parsed->address, parsed->is_v4 ? 96 + bits : bits});
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
