#pragma once
// The enforcement filters (issue 3, STYLE section 4). Each reads its configuration from the exchange's
// generation snapshot, so one instance serves every thread and every reload. Every block, strip, drop
// and cap is written to the decision log (as would_* in report-only mode, where nothing is changed).
#include "proxy/decision_log.hpp"
#include "proxy/filter.hpp"

namespace consent::proxy {

class Headers;
struct FirstParty;

// Every Cookie line joined with "; " (RFC 6265 section 5.4 says one line, but HTTP/2-to-1 gateways split
// it): what the engine reads. Shared by forward and gateway filters.
[[nodiscard]] std::string joined_cookie_header(const Headers& headers);
// The first-party site of a request, from its Sec-Fetch-*, Origin, Referer and Accept headers.
[[nodiscard]] FirstParty first_party_of_request(const Exchange& x);

// 407 when proxy authentication is enabled and the request does not carry valid credentials.
class ProxyAuthFilter final : public RequestFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "proxy_auth"; }
  FilterStatus on_request(Exchange& x) const override;
};

// Finds the first-party site and the consent in force (the request's own signal, else the ledger entry
// of (client, site)), asks policy, and answers a block with the surrogate without going upstream.
// A first-party request carrying a consent signal updates the ledger.
class ConsentGate final : public RequestFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "consent_gate"; }
  FilterStatus on_request(Exchange& x) const override;
};

// Removes from the Cookie header the cookies whose purpose is not granted (Engine::filter_cookie_header).
class CookieFilter final : public RequestFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "cookie_filter"; }
  FilterStatus on_request(Exchange& x) const override;
};

// Drops or caps the response's Set-Cookie lines (Engine::filter_set_cookie).
class SetCookieFilter final : public ResponseFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "set_cookie_filter"; }
  void on_response(Exchange& x) const override;
};

// A first-party response that sets the consent cookie (eu-consent, TCF) updates the ledger, so the
// site's third-party requests are judged by the new choice from the next request on.
class LedgerUpdate final : public ResponseFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "ledger_update"; }
  void on_response(Exchange& x) const override;
};

// What every decision-log line about `x` says: time, exchange id, client, site, method, host, path, the
// consent in force (status, source, granted purpose ids, GPC), mode and policy hash. The caller sets the
// action, reason, rule, purpose and violation (and may override host, path or site, as the gateway's CSP
// reports do). Views point into `x` and its engine: log the record before `x` changes.
[[nodiscard]] DecisionRecord decision_record(const Exchange& x);

// CNAME cloaking (issue 5), for the session once DNS answers are wired in: `judged_host` is what
// judged_host() (proxy/dns_cname.hpp) picked from the CNAME chain of x.host. When it differs from x.host
// and the exchange was not blocked already, decides again with the host replaced; a block is recorded with
// reason "cname_cloaked" (log_reason::cname_cloaked) and violation cname_cloaked_tracker, and answered with
// the surrogate (respond), except in report-only mode, which logs would_block and proceeds. `judged_host`
// is read during the call only. `is_tunnel` (a CONNECT tunnelled blind): the reply is the forbidden page.
// The session calls it through judge_upstream_name() (proxy/dns_judge.hpp), before anything goes upstream.
FilterStatus judge_cname_target(Exchange& x, std::string_view judged_host, bool is_tunnel = false);

// The cookie filters again, with the host replaced by the CNAME target that judged_host() picked, so the
// tracker behind a first-party name is treated as the third party it is: e.g. a "_ga" that is exempt
// first-party measurement on the site's own name is refused for the tracker. Each removal is logged like
// CookieFilter's and SetCookieFilter's. No-ops when `judged_host` is empty or x.host.
void filter_cookies_as_cname_target(Exchange& x, std::string_view judged_host);
// Before the response filters run, so a line dropped here is not also capped there.
void filter_set_cookies_as_cname_target(Exchange& x, std::string_view judged_host);

}  // namespace consent::proxy
