#pragma once
// Gateway mode (issue 6): consentgate in front of a site's origin. The session stays the one pipeline
// (STYLE section 4); gateway mode differs only in how a request finds its upstream and in the filters it
// runs. Owner: gateway. The session (owner: tls/core) calls exactly these entry points.
#include <memory>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "proxy/filter.hpp"
#include "proxy/listener.hpp"

namespace consent::proxy {

struct Exchange;

// For a gateway request head already in x.request: finds the route (listener + Host), sets x.host,
// x.port, x.path_and_query (the visitor-facing site, for policy and first-party), x.upstream (origin
// address, TLS and name to verify), x.client_tls; or answers locally (health endpoint, CSP report
// endpoint, unknown Host -> 421/404, origin-form required) by setting x.local_reply and returning
// FilterStatus::respond. Pure: no I/O except what the CSP report endpoint logs via the runtime.
[[nodiscard]] FilterStatus prepare_gateway_exchange(Exchange& x, const ListenerContext& listener);

// The filter chain for gateway exchanges: consent gate and cookie filtering as in forward mode plus
// forwarded headers, consent header, CSP, Vary and the consent-record log.
[[nodiscard]] const FilterChain& gateway_chain();

// The listeners gateway mode needs (one per distinct route listen, with the TLS context built from the
// routes' certificates). Errors (unreadable key, bad PEM) come back as precise messages.
struct GatewayListeners {
  std::vector<ListenerContext> listeners;
  std::vector<std::string> errors;
};
[[nodiscard]] GatewayListeners make_gateway_listeners(const config::Settings& settings);

}  // namespace consent::proxy
