// Fuzzes parse_http_url (purpose examples' URLs): never crashes, and what it accepts is a normalised host
// and an origin-form target without control bytes, which parses again to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/host.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool clean(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consent::policy;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parts = parse_http_url(input);
  if (!parts) return 0;
  check(!parts->host.empty() && parts->host.size() <= max_host_bytes + 2);
  check(clean(parts->host) && clean(parts->path_and_query));
  check(!parts->path_and_query.empty() && parts->path_and_query.front() == '/');
  check(parts->path_and_query.find('#') == std::string::npos);
  // IPv6 hosts come back without brackets; anything else is a fixed point and round-trips.
  if (parts->host.find(':') == std::string::npos) {
    check(normalise_host(parts->host) == parts->host);
    const auto again = parse_http_url("http://" + parts->host + parts->path_and_query);
    check(again && again->host == parts->host && again->path_and_query == parts->path_and_query);
  }
  return 0;
}
