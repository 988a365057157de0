#include "proxy/dns_judge.hpp"

#include <boost/asio/ip/address.hpp>

#include "proxy/consent_filter.hpp"
#include "proxy/dns_cname.hpp"
#include "proxy/exchange.hpp"
#include "proxy/upstream.hpp"

namespace consent::proxy {

namespace {

bool is_ip_literal(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

asio::awaitable<FilterStatus> judge_upstream_name(Exchange& x, bool is_tunnel, std::string& cname_target) {
  cname_target.clear();
  const auto& g = *x.generation;
  const auto& dns = g.settings.dns;
  if (!dns.cname_cloaking || x.upstream.address || is_ip_literal(x.host)) co_return FilterStatus::proceed;
  if (g.connect_to.lookup(x.host, x.port)) co_return FilterStatus::proceed;

  // The connect that follows shares timeouts.connect: a slow answer here leaves less for it.
  const auto resolved = co_await resolve_upstream(x.host, x.port, dns, g.settings.timeouts.connect);
  if (resolved.error) {
    auto options = x.reply_options();
    if (resolved.error == dns_errc::timeout) options.reason_code = "dns_timeout";
    x.local_reply = LocalReply::error(ReplyKind::upstream_dns_failed, options);
    co_return FilterStatus::respond;
  }
  if (resolved.cname_chain.empty()) co_return FilterStatus::proceed;

  const auto request = x.policy_request();
  const std::string_view judged = judged_host(x.engine(), request, resolved.cname_chain);
  if (judged == x.host) co_return FilterStatus::proceed;  // the host itself, or nothing, is recognised
  cname_target = std::string(judged);
  if (judge_cname_target(x, cname_target, is_tunnel) == FilterStatus::respond) co_return FilterStatus::respond;
  filter_cookies_as_cname_target(x, cname_target);
  // The tracker answers under the site's name, but it does not speak for the site: a consent cookie it sets
  // must not update the site's ledger entry (LedgerUpdate).
  x.is_first_party_request = false;
  co_return FilterStatus::proceed;
}

}  // namespace consent::proxy
