#include "proxy/dns_cname.hpp"

#include <algorithm>

#include "policy/engine.hpp"
#include "policy/request.hpp"

namespace consent::proxy {

std::string normalise_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out{name};
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string> follow_cname_chain(std::string_view host, std::span<const CnameRecord> records) {
  std::vector<std::string> chain;
  std::string current = normalise_dns_name(host);
  while (chain.size() < max_cname_hops) {
    const auto next = std::find_if(records.begin(), records.end(),
                                   [&](const CnameRecord& r) { return normalise_dns_name(r.alias) == current; });
    if (next == records.end()) break;
    std::string target = normalise_dns_name(next->target);
    // A loop (a CNAME a, a CNAME b, b CNAME a) would never reach an address; stop before repeating.
    if (target == normalise_dns_name(host) || std::find(chain.begin(), chain.end(), target) != chain.end()) break;
    current = target;
    chain.push_back(std::move(target));
  }
  return chain;
}

std::string_view judged_host(const policy::Engine& engine, const policy::Request& request,
                             std::span<const std::string> cname_chain) {
  return first_recognised(request.host, cname_chain, [&](std::string_view name) {
    policy::Request probe = request;
    probe.host = name;
    return !engine.decide(probe).rule_id.empty();
  });
}

}  // namespace consent::proxy
