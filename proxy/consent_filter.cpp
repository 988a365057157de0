#include "proxy/consent_filter.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "policy/host.hpp"
#include "policy/set_cookie.hpp"
#include "proxy/consent_ledger.hpp"
#include "proxy/decision_log.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_headers.hpp"

namespace consent::proxy {
namespace {

struct LogExtra {
  std::vector<std::string_view> cookies;
  std::int64_t max_age_seconds = -1;
  int status = 0;
  std::optional<ViolationKind> violation;
};

void log_decision(const Exchange& x, LogAction action, std::string_view reason, std::string_view rule_id,
                  policy::PurposeIndex purpose, const LogExtra& extra = {}) {
  auto* log = x.runtime->decision_log();
  if (log == nullptr) return;
  DecisionRecord r = decision_record(x);
  r.purpose = x.engine().purpose_id(purpose);
  r.action = x.is_report_only() ? report_only(action) : action;
  r.reason = reason;
  r.rule_id = rule_id;
  r.cookie_names = extra.cookies;
  r.max_age_seconds = extra.max_age_seconds;
  r.status = extra.status;
  r.violation = extra.violation;
  log->log(r);
}

// A block is about a tracker reached through the site's own name (a subdomain, a first-party path the
// recorder vendors document), before any consent for the site, or against the consent in force.
ViolationKind block_violation(const Exchange& x) {
  if (x.is_first_party_request) return ViolationKind::cname_cloaked_tracker;
  if (x.consent.status == policy::ConsentStatus::missing) return ViolationKind::tracker_before_consent;
  return ViolationKind::tracker_without_consent;
}

bool is_consent_cookie_name(const policy::Document& doc, std::string_view name) {
  const auto& c = doc.consent;
  return std::find(c.cookie_names.begin(), c.cookie_names.end(), name) != c.cookie_names.end() ||
         std::find(c.tcf_cookie_names.begin(), c.tcf_cookie_names.end(), name) != c.tcf_cookie_names.end();
}

}  // namespace

// All Cookie lines joined with "; " (RFC 9110 section 5.3 does not apply to Cookie: RFC 6265 section 5.4
// says one line, but HTTP/2-to-1 gateways split it).
std::string joined_cookie_header(const Headers& headers) {
  std::string out;
  for (const auto field : headers) {
    if (!iequals(field.name, "Cookie")) continue;
    if (!out.empty()) out += "; ";
    out += field.value;
  }
  return out;
}

FirstParty first_party_of_request(const Exchange& x) {
  const auto& h = x.request.headers;
  FirstPartyInputs in;
  in.method = method_name(x.request.method);
  in.host = x.host;
  in.path = x.path_and_query;
  in.sec_fetch_mode = h.get("Sec-Fetch-Mode");
  in.sec_fetch_dest = h.get("Sec-Fetch-Dest");
  in.sec_fetch_site = h.get("Sec-Fetch-Site");
  in.origin = h.get("Origin");
  in.referer = h.get("Referer");
  in.accept = h.get("Accept");
  return first_party_of(in);
}

DecisionRecord decision_record(const Exchange& x) {
  const auto& engine = x.engine();
  DecisionRecord r;
  r.time = std::chrono::system_clock::now();
  r.exchange_id = x.id;
  r.client = x.client;
  r.site = x.first_party.site;
  r.method = method_name(x.request.method);
  r.host = x.host;
  r.path = x.path_and_query;  // the log cuts the query unless log_full_urls
  r.consent = x.consent.status;
  r.consent_source = x.consent.source;
  // The whole set in force, so a reader sees a withdrawal as it happens (not only through refusals).
  const auto granted = x.consent.granted.bits();
  for (std::size_t i = 0; i < engine.purpose_count() && i < policy::max_purposes; ++i) {
    if ((granted >> i & 1U) != 0) r.granted.push_back(engine.purpose_id(static_cast<policy::PurposeIndex>(i)));
  }
  r.gpc = x.consent.gpc;
  r.mode = x.generation->settings.mode;
  r.policy_hash = engine.policy_hash();
  return r;
}

FilterStatus ProxyAuthFilter::on_request(Exchange& x) const {
  const auto& auth = x.generation->auth;
  if (!auth.enabled() || auth.check(x.request.headers.get("Proxy-Authorization"))) return FilterStatus::proceed;
  auto options = x.reply_options();
  x.local_reply = LocalReply::error(ReplyKind::proxy_auth_required, options);
  return FilterStatus::respond;
}

FilterStatus ConsentGate::on_request(Exchange& x) const {
  const auto& engine = x.engine();
  const auto& h = x.request.headers;
  x.first_party = first_party_of_request(x);
  const auto& site = x.first_party.site;
  x.is_first_party_request = !site.empty() && policy::registrable_domain(x.host) == site;

  const auto cookies = joined_cookie_header(h);
  policy::ConsentInputs inputs;
  inputs.cookie_header = cookies;
  inputs.sec_gpc = h.get("Sec-GPC");
  inputs.now = x.now;
  auto state = engine.read_consent(inputs);
  auto& ledger = x.runtime->ledger();
  const auto lifetime = engine.document().consent.lifetime_seconds;
  if (state.status != policy::ConsentStatus::missing) {
    // Only the site's own cookie speaks for the site: a tracker's cookie jar says nothing about it.
    if (x.is_first_party_request) ledger.update(x.client, site, state, x.now, lifetime);
  } else if (!site.empty()) {
    if (auto remembered = ledger.lookup(x.client, site, x.now)) state = *remembered;
  }
  x.consent = state;

  x.decision = engine.decide(x.policy_request());
  if (x.decision.verdict != policy::Verdict::block) {
    if (x.generation->settings.log_all_exchanges) {
      log_decision(x, LogAction::allow, x.decision.reason, x.decision.rule_id, x.decision.purpose);
    }
    return FilterStatus::proceed;
  }
  x.runtime->stats().blocks.fetch_add(1, std::memory_order_relaxed);
  auto reply = LocalReply::surrogate(x.decision, engine.purpose_label(x.decision.purpose), x.reply_options());
  log_decision(x, LogAction::block, x.decision.reason, x.decision.rule_id, x.decision.purpose,
               LogExtra{{}, -1, x.is_report_only() ? 0 : reply.status, block_violation(x)});
  if (x.is_report_only()) return FilterStatus::proceed;
  x.local_reply = std::move(reply);
  return FilterStatus::respond;
}

namespace {

// The Cookie header judged for `request` (x's own, or with the host replaced by a CNAME target).
void filter_cookie_header_for(Exchange& x, const policy::Request& request) {
  if (!x.request.headers.contains("Cookie")) return;
  const auto cookies = joined_cookie_header(x.request.headers);
  const auto result = x.engine().filter_cookie_header(request, cookies);
  if (!result.changed) return;
  x.runtime->stats().cookie_strips.fetch_add(1, std::memory_order_relaxed);
  const auto withdrawn = x.runtime->ledger().withdrawn(x.client, x.first_party.site, x.now);
  // One line per purpose keeps rule and reason exact; names only, never values.
  for (std::size_t i = 0; i < result.removed.size(); ++i) {
    const auto& first = result.removed[i];
    LogExtra extra;
    extra.violation = withdrawn.contains(first.purpose) ? ViolationKind::withdrawn_cookie_sent
                                                        : ViolationKind::cookie_without_consent;
    extra.cookies.push_back(first.name);
    while (i + 1 < result.removed.size() && result.removed[i + 1].rule_id == first.rule_id &&
           result.removed[i + 1].reason == first.reason) {
      extra.cookies.push_back(result.removed[++i].name);
    }
    log_decision(x, LogAction::strip_cookie, first.reason, first.rule_id, first.purpose, extra);
  }
  if (x.is_report_only()) return;
  if (result.header.empty()) {
    x.request.headers.remove("Cookie");
  } else if (!x.request.headers.set("Cookie", result.header)) {
    x.request.headers.remove("Cookie");  // an unsendable rewrite fails closed: no cookie at all
  }
}

// The response's Set-Cookie lines judged for `request` (x's own, or with the host replaced by a CNAME target).
void filter_set_cookie_for(Exchange& x, const policy::Request& request) {
  if (!x.response || !x.response->headers.contains("Set-Cookie")) return;
  const auto& engine = x.engine();
  Headers rebuilt;
  bool changed = false;
  for (const auto field : x.response->headers) {
    if (!iequals(field.name, "Set-Cookie")) {
      rebuilt.add_unchecked(field.name, field.value);
      continue;
    }
    auto result = engine.filter_set_cookie(request, field.value, x.now);
    if (result.action == policy::SetCookieAction::keep) {
      rebuilt.add_unchecked(field.name, field.value);
      continue;
    }
    LogExtra extra;
    extra.cookies.push_back(result.name);
    extra.status = x.response->status;
    const bool is_drop = result.action == policy::SetCookieAction::drop;
    if (is_drop) {
      // An unparseable line is dropped for safety, not for a purpose: no consent was at stake.
      if (result.reason != policy::reason::set_cookie_invalid)
        extra.violation = ViolationKind::set_cookie_before_consent;
    } else {
      // The lifetime the origin asked for, not the capped one: that is what the reader judges.
      if (const auto parsed = policy::parse_set_cookie(field.value)) {
        if (const auto lifetime = policy::lifetime_seconds(*parsed, x.now)) extra.max_age_seconds = *lifetime;
      }
      extra.violation = is_consent_cookie_name(engine.document(), result.name)
                            ? ViolationKind::consent_cookie_too_long
                            : ViolationKind::audience_cookie_too_long;
    }
    x.runtime->stats().set_cookie_drops.fetch_add(is_drop ? 1 : 0, std::memory_order_relaxed);
    log_decision(x, is_drop ? LogAction::drop_set_cookie : LogAction::cap_set_cookie, result.reason, result.rule_id,
                 result.purpose, extra);
    if (x.is_report_only()) {
      rebuilt.add_unchecked(field.name, field.value);
      continue;
    }
    changed = true;
    if (!is_drop && !rebuilt.add("Set-Cookie", result.header)) {
      // The capped line cannot be sent: dropping it is the safe side.
    }
  }
  if (changed) x.response->headers = std::move(rebuilt);
}

}  // namespace

FilterStatus CookieFilter::on_request(Exchange& x) const {
  if (x.decision.verdict == policy::Verdict::block && !x.is_report_only()) return FilterStatus::proceed;
  filter_cookie_header_for(x, x.policy_request());
  return FilterStatus::proceed;
}

void SetCookieFilter::on_response(Exchange& x) const { filter_set_cookie_for(x, x.policy_request()); }

void LedgerUpdate::on_response(Exchange& x) const {
  if (!x.response || !x.is_first_party_request) return;
  const auto& engine = x.engine();
  const auto& doc = engine.document();
  for (const auto field : x.response->headers) {
    if (!iequals(field.name, "Set-Cookie")) continue;
    const auto pair = field.value.substr(0, field.value.find(';'));
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = trim_ows(pair.substr(0, eq));
    if (!is_consent_cookie_name(doc, name)) continue;
    const std::string cookie(pair);
    policy::ConsentInputs inputs;
    inputs.cookie_header = cookie;
    inputs.sec_gpc = x.request.headers.get("Sec-GPC");
    inputs.now = x.now;
    const auto state = engine.read_consent(inputs);
    x.runtime->ledger().update(x.client, x.first_party.site, state, x.now, doc.consent.lifetime_seconds);
  }
}

FilterStatus judge_cname_target(Exchange& x, std::string_view judged_host, bool is_tunnel) {
  if (judged_host.empty() || judged_host == x.host) return FilterStatus::proceed;
  if (x.decision.verdict == policy::Verdict::block) return FilterStatus::proceed;  // already judged and logged
  const auto& engine = x.engine();
  auto request = x.policy_request();
  request.host = judged_host;
  auto decision = engine.decide(request);
  if (decision.verdict != policy::Verdict::block) return FilterStatus::proceed;
  decision.reason = log_reason::cname_cloaked;
  // A blind tunnel has no content type to imitate: the browser shows the connection as refused.
  if (is_tunnel) decision.surrogate = policy::Surrogate::forbidden_page;
  x.decision = decision;
  x.runtime->stats().blocks.fetch_add(1, std::memory_order_relaxed);
  auto reply = LocalReply::surrogate(x.decision, engine.purpose_label(x.decision.purpose), x.reply_options());
  log_decision(x, LogAction::block, x.decision.reason, x.decision.rule_id, x.decision.purpose,
               LogExtra{{}, -1, x.is_report_only() ? 0 : reply.status, ViolationKind::cname_cloaked_tracker});
  if (x.is_report_only()) return FilterStatus::proceed;
  x.local_reply = std::move(reply);
  return FilterStatus::respond;
}

void filter_cookies_as_cname_target(Exchange& x, std::string_view judged_host) {
  if (judged_host.empty() || judged_host == x.host) return;
  if (x.decision.verdict == policy::Verdict::block && !x.is_report_only()) return;
  auto request = x.policy_request();
  request.host = judged_host;
  filter_cookie_header_for(x, request);
}

void filter_set_cookies_as_cname_target(Exchange& x, std::string_view judged_host) {
  if (judged_host.empty() || judged_host == x.host) return;
  auto request = x.policy_request();
  request.host = judged_host;
  filter_set_cookie_for(x, request);
}

}  // namespace consent::proxy
