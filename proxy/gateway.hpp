#pragma once
// Gateway mode (issue 6): consentgate in front of a site's origin. The session stays the one pipeline
// (STYLE section 4); gateway mode differs only in how a request finds its upstream and in the filters it
// runs. Owner: gateway. The session (owner: tls/core) calls exactly these entry points.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "proxy/filter.hpp"
#include "proxy/listener.hpp"

namespace consent::proxy {

struct Exchange;
struct LocalReply;

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
// routes' certificates). Errors (unreadable key, bad PEM) come back as precise messages. Each context's
// `index` is its position in this list and prepare_gateway_exchange routes by it: the server must pass
// these contexts on unchanged (every "ADDR:0" route has a listener of its own, so text is ambiguous).
struct GatewayListeners {
  std::vector<ListenerContext> listeners;
  std::vector<std::string> errors;
};
// Also opens the consent-record log (gateway.consent_records) and loads or creates its HMAC key: blocking
// file I/O, called once at start before the workers run. Its problems are returned in `errors` too.
[[nodiscard]] GatewayListeners make_gateway_listeners(const config::Settings& settings);

// SIGHUP: called on the control thread with the running and the new settings, after the new ones loaded
// and before they are swapped in (routes, CSP, headers and health then follow from the new generation by
// themselves). Reopens the consent-record log when its settings changed (a failure keeps the previous
// log, and says so), and returns one line per change that needs a restart: a listen address added or
// removed, a certificate or key, the mode. Blocking file I/O: never on an I/O thread.
[[nodiscard]] std::vector<std::string> reload_gateway(const config::Settings& previous, const config::Settings& next);

// --- CSP reports (gateway.csp: report-only) ---------------------------------------------------------
// prepare_gateway_exchange answers a POST to csp_report_path itself with 204 (reason code "csp_report"),
// closing the connection when the request has a body it did not read: the session hands it the head only.
// A session able to read the body does this instead of sending that reply as is:
//   if (is_csp_report(x)) { read at most max_csp_report_body_bytes of body; record_csp_report(x, body);
//                           send csp_report_reply(x, true); }
// record_csp_report writes one decision-log line per violation (action would_block in report-only, block
// in enforce; reason "csp_violation"; host = the blocked host, never its path or query; purpose and rule
// from the policy when the host is a known tracker, so `consentgate report` shows them like any block).
inline constexpr std::size_t max_csp_report_body_bytes = 64 * 1024;
[[nodiscard]] bool is_csp_report(const Exchange& x) noexcept;
// Returns how many violations were logged.
std::size_t record_csp_report(const Exchange& x, std::string_view body);
[[nodiscard]] LocalReply csp_report_reply(const Exchange& x, bool body_consumed);

}  // namespace consent::proxy
