#include "proxy/proxy_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace consent::proxy {

namespace detail {

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad != 0) return std::nullopt;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    // Non-canonical encodings (unused bits set) are refused so one credential has one spelling.
    if (pad == 2 && (v[1] & 0x0F) != 0) return std::nullopt;
    if (pad == 1 && (v[2] & 0x03) != 0) return std::nullopt;
    const auto n = static_cast<unsigned>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out.push_back(static_cast<char>(n >> 16 & 0xFFU));
    if (pad < 2) out.push_back(static_cast<char>(n >> 8 & 0xFFU));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xFFU));
  }
  return out;
}

}  // namespace detail

namespace {

using Digest = std::array<unsigned char, 32>;

bool sha256(std::string_view data, Digest& out) noexcept {
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 && len == out.size();
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

ProxyAuth ProxyAuth::build(const config::ProxyAuth& config, std::vector<std::string>& errors) {
  ProxyAuth auth;
  auth.enabled_ = config.enabled;
  for (const char c : config.realm) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') continue;
    errors.push_back("auth.realm: only printable ASCII without '\"' and '\\' is allowed");
    break;
  }
  if (!config.realm.empty()) auth.realm_ = config.realm;
  auth.challenge_ = "Basic realm=\"" + auth.realm_ + "\", charset=\"UTF-8\"";
  for (std::size_t i = 0; i < config.users.size(); ++i) {
    const auto& pair = config.users[i];
    const auto colon = pair.find(':');
    if (colon == std::string::npos || colon == 0) {
      // Never echo the entry: it holds a password.
      errors.push_back("auth.users[" + std::to_string(i) + "]: expected \"user:password\"");
      continue;
    }
    Digest d{};
    if (!sha256(pair, d)) {
      errors.push_back("auth.users[" + std::to_string(i) + "]: SHA-256 unavailable");
      continue;
    }
    auth.digests_.push_back(d);
  }
  if (auth.enabled_ && auth.digests_.empty()) errors.push_back("auth.enabled is true but no user is configured");
  return auth;
}

bool ProxyAuth::check(std::string_view value) const noexcept {
  if (!enabled_) return true;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  constexpr std::string_view scheme = "basic";
  if (value.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (lower(value[i]) != scheme[i]) return false;
  }
  auto token = value.substr(scheme.size());
  if (token.front() != ' ') return false;
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty() || token.size() > max_token_bytes) return false;
  std::optional<std::string> decoded;
  try {
    decoded = detail::base64_decode(token);
  } catch (...) {
    return false;
  }
  if (!decoded || decoded->find(':') == std::string::npos) return false;
  Digest d{};
  if (!sha256(*decoded, d)) return false;
  // Compare with every digest and never stop early: the time taken does not depend on which one matched.
  int matched = 0;
  for (const auto& known : digests_) matched |= CRYPTO_memcmp(d.data(), known.data(), d.size()) == 0 ? 1 : 0;
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return matched != 0;
}

}  // namespace consent::proxy
