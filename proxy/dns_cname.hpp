#pragma once
// CNAME chains for cloaking detection (issue 5, "CNAME cloaking"): pure functions, no I/O.
//
// A first-party name delegated to a tracker (metrics.site.example CNAME tracker.example) must be judged as
// that tracker. DnsResolver returns the chain; judged_host() picks the name policy should see.
//
// How session code uses it (after `co_await resolver.resolve(host, port)` succeeded):
//   policy::Request req = x.policy_request();                  // req.host = the URL's host
//   std::string_view judged = judged_host(engine, req, result.cname_chain);
//   req.host = judged;                                          // the substitution
//   x.decision = engine.decide(req);
// `judged` points into `req.host`'s storage or into `cname_chain`: keep the DnsResult alive while the
// Request is used. Cookies are then filtered with the same substituted Request.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace consent::policy {
class Engine;
struct Request;
}  // namespace consent::policy

namespace consent::proxy {

// Bounds a chain that a hostile or broken server answers with: real chains have 1-3 hops.
inline constexpr std::size_t max_cname_hops = 16;

// One CNAME record as a server sent it: `alias` CNAME `target`, in any case, with or without trailing dot.
struct CnameRecord {
  std::string_view alias;
  std::string_view target;
};

// Lower-cases ASCII and strips one trailing dot. Does not validate.
[[nodiscard]] std::string normalise_dns_name(std::string_view name);

// The targets reached from `host` by following `records` in order of the chain, not of the answer
// section: [host's target, its target, ...], normalised, at most max_cname_hops, stopping at a loop.
// Records that do not belong to the chain (another name, duplicates from the A and AAAA answers) are ignored.
[[nodiscard]] std::vector<std::string> follow_cname_chain(std::string_view host, std::span<const CnameRecord> records);

// The first of `host`, then `cname_chain` in order, for which is_recognised(name) holds; `host` if none.
template <class IsRecognised>
[[nodiscard]] std::string_view first_recognised(std::string_view host, std::span<const std::string> cname_chain,
                                                IsRecognised&& is_recognised) {
  if (is_recognised(host)) return host;
  for (const std::string& target : cname_chain) {
    if (is_recognised(std::string_view{target})) return target;
  }
  return host;
}

// first_recognised() where "recognised" means that engine.decide() matched a rule (non-empty rule_id) for
// `request` with its host replaced by the name. The request's own host wins when it is itself recognised,
// so an operator rule on the first-party name keeps priority over what the DNS says.
[[nodiscard]] std::string_view judged_host(const policy::Engine& engine, const policy::Request& request,
                                           std::span<const std::string> cname_chain);

}  // namespace consent::proxy
