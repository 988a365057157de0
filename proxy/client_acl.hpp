#pragma once
// The allow-list of client networks (Settings::allowed_clients): CIDR blocks, IPv4 and IPv6.
//
// Semantics
// - "10.0.0.0/8", "::1/128", or a bare address (= /32 or /128), read by config::parse_cidr (the one
//   CIDR grammar of the settings). A prefix with host bits set ("10.0.0.1/8") is an error, so a typo
//   cannot silently widen or narrow the list. Zone ids ("%eth0") are refused.
// - IPv4 lives inside IPv6 as v4-mapped (::ffff:a.b.c.d): a v4 rule matches a v4 client and the same
//   client seen as v4-mapped on a dual-stack socket; "::/0" matches everything.
// - An empty list allows nobody (fail closed). "0.0.0.0/0" + "::/0" allow everyone.
// Thread-safety: immutable after build(); allows() is const, noexcept, allocation-free.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace consent::proxy {

class ClientAcl {
 public:
  using V4 = std::array<unsigned char, 4>;   // asio::ip::address_v4::bytes_type
  using V6 = std::array<unsigned char, 16>;  // asio::ip::address_v6::bytes_type

  ClientAcl() = default;  // allows nobody

  // One message per bad entry, e.g. "allowed_clients[1]: \"10.0.0.1/8\" has host bits set; did you
  // mean \"10.0.0.0/8\"?" (config::parse_cidr's words). Bad entries are left out.
  [[nodiscard]] static ClientAcl build(const std::vector<std::string>& cidrs, std::vector<std::string>& errors);

  [[nodiscard]] bool allows(const V4& address) const noexcept;
  [[nodiscard]] bool allows(const V6& address) const noexcept;
  // Textual address ("127.0.0.1", "::1", "::ffff:10.1.2.3"); false when it does not parse.
  [[nodiscard]] bool allows(std::string_view address) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return networks_.size(); }

 private:
  struct Network {
    V6 prefix{};
    unsigned bits = 0;  // 0..128, in the v6 (mapped) space
  };
  std::vector<Network> networks_;
};

}  // namespace consent::proxy
