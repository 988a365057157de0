#pragma once
// Basic proxy authentication (RFC 9110 section 11.7.1, RFC 7617) against configured "user:password"
// pairs, for shared deployments.
//
// Contract
// - check() takes the raw Proxy-Authorization value ("Basic dXNlcjpwYXNz"); the scheme is
//   case-insensitive, the token is strict base64 (padding required, at most max_token_bytes).
// - Credentials are kept only as SHA-256 digests; check() hashes the decoded credential and compares it
//   with EVERY configured digest using CRYPTO_memcmp, so neither the length nor the position of a match
//   leaks through timing.
// - The proxy must strip Proxy-Authorization before going upstream (hop-by-hop); this class does not.
// Thread-safety: immutable after build(); check() is const and thread-safe.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace consent::proxy {

class ProxyAuth {
 public:
  static constexpr std::size_t max_token_bytes = 1024;  // base64 characters of the credential

  ProxyAuth() = default;  // disabled: check() always succeeds

  // Errors: "auth.users[0]: expected \"user:password\"" (no colon, or empty user). When auth is enabled
  // and no valid user remains, an error "auth.enabled is true but no user is configured" is added.
  [[nodiscard]] static ProxyAuth build(const config::ProxyAuth& config, std::vector<std::string>& errors);

  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  // True when disabled, or when the header carries one of the configured credentials.
  [[nodiscard]] bool check(std::string_view proxy_authorization) const noexcept;
  // The value of the Proxy-Authenticate header of a 407, e.g. `Basic realm="consentgate", charset="UTF-8"`.
  [[nodiscard]] const std::string& challenge() const noexcept { return challenge_; }
  [[nodiscard]] std::string_view realm() const noexcept { return realm_; }

 private:
  using Digest = std::array<unsigned char, 32>;
  bool enabled_ = false;
  std::string realm_ = "consentgate";
  std::string challenge_ = R"(Basic realm="consentgate", charset="UTF-8")";
  std::vector<Digest> digests_;
};

namespace detail {
// Strict base64 (RFC 4648 section 4, padding required, no whitespace). nullopt on any error.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);
}  // namespace detail

}  // namespace consent::proxy
