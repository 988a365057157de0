#pragma once
// The DNS step of a forward exchange (issue 5, "CNAME cloaking"): the host is resolved before anything is
// sent upstream, and a host whose CNAME chain reaches a known tracker is judged as that tracker.
//
// Where the session calls it: after the request filters (a host blocked by name is never resolved: its
// name does not reach a DNS server) and before the upstream connection. The answer is cached per TTL by
// the worker's resolver, so the connect that follows, and the next exchanges on a keep-alive connection,
// cost no query.
#include <string>

#include "proxy/asio_fwd.hpp"
#include "proxy/filter.hpp"

namespace consent::proxy {

struct Exchange;

// Resolves x.host with the settings' dns key and judges the exchange by its CNAME chain (judged_host() of
// proxy/dns_cname.hpp, then judge_cname_target() and filter_cookies_as_cname_target() of
// proxy/consent_filter.hpp).
//
// Not resolved here (proceed, `cname_target` empty): a gateway exchange (x.upstream.address: the route's
// origin is the operator's choice), a host pinned by --connect-to / connect_to (the pin says where the name
// goes, so no DNS server is asked and no CNAME is looked up), an IP literal, and dns.cname_cloaking false.
// Those names are resolved, when they are names, by connect_upstream.
//
// respond, with x.local_reply set: the name does not resolve (502 upstream_dns_failed: fail closed, what
// cannot be judged is not sent), or the chain reaches a tracker the consent does not cover (the tracker's
// surrogate; the forbidden page when `is_tunnel`, a CONNECT tunnelled blind).
// proceed: `cname_target` is the chain name judged in place of x.host, or empty when none was recognised;
// the Cookie header was filtered as that tracker. The caller passes `cname_target` to
// filter_set_cookies_as_cname_target() when the response head arrives.
asio::awaitable<FilterStatus> judge_upstream_name(Exchange& x, bool is_tunnel, std::string& cname_target);

}  // namespace consent::proxy
