#include "proxy/gateway.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "policy/cookie_header.hpp"
#include "policy/host.hpp"
#include "proxy/client_acl.hpp"
#include "proxy/consent_filter.hpp"
#include "proxy/consent_record.hpp"
#include "proxy/csp.hpp"
#include "proxy/decision_log.hpp"
#include "proxy/exchange.hpp"
#include "proxy/first_party.hpp"
#include "proxy/gateway_headers.hpp"
#include "proxy/gateway_internal.hpp"
#include "proxy/gateway_routes.hpp"

namespace consent::proxy {
namespace {

// --- Local replies of gateway mode ----------------------------------------------------------------
// TODO(gateway): issue 6. These belong in proxy/local_reply.cpp (STYLE section 4) as ReplyKinds
// (421 unknown_host, 200 health, 204 csp_report); built here until its owner adds them. Same shape as
// every local reply: no-store, nosniff, X-Consentgate-Reason, Content-Length, and no client text echoed.
LocalReply gateway_reply(int status, std::string_view status_text, std::string_view reason_code,
                         std::string_view content_type, std::string_view body, const ReplyOptions& options) {
  LocalReply r;
  r.status = status;
  r.reason_code = reason_code;
  r.closes_connection = !options.keep_alive || options.body_unread;
  std::string& out = r.bytes;
  out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += status_text;
  out += "\r\n";
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Consentgate-Reason: ";
  out += reason_code;
  out += "\r\n";
  if (status != 204) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (r.closes_connection) {
    out += "Connection: close\r\n";
  } else if (options.is_http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!options.is_head && status != 204) out += body;
  return r;
}

ReplyOptions options_of(const Exchange& x) {
  auto o = x.reply_options();
  o.is_http10 = x.request.version == 10;
  return o;
}

// --- Process-wide state ------------------------------------------------------------------------------
// The consent-record log, replaced as a whole at start and on a reload that changes its settings. Sessions
// read it through a per-thread copy refreshed when `records_epoch` moves, so the request path takes no lock.
std::mutex records_mutex;
std::shared_ptr<ConsentRecordLog> records_log;
std::atomic<std::uint64_t> records_epoch{1};

std::shared_ptr<ConsentRecordLog> consent_records() {
  std::lock_guard lock(records_mutex);
  return records_log;
}

// The listen text of each running listener, in make_gateway_listeners' order: a reload maps the new
// route table onto these sockets (they are bound once; a new address needs a restart).
std::mutex running_mutex;
std::vector<std::string> running_listens;

std::vector<std::string> running_listen_texts() {
  std::lock_guard lock(running_mutex);
  return running_listens;
}

// The listen text of each listener of a route table, in listener_of_routes' order.
std::vector<std::string> listen_texts(const std::vector<config::GatewayRoute>& routes,
                                      const std::vector<std::size_t>& listener_of) {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < routes.size(); ++k) {
    if (listener_of[k] == out.size()) out.push_back(routes[k].listen);
  }
  return out;
}

constexpr std::size_t no_listener = static_cast<std::size_t>(-1);

// For each running listener, the listener of `next` with the same address (the k-th "ADDR:0" of the same
// text maps to the k-th), or no_listener when the new table has none there.
std::vector<std::size_t> map_running_listeners(const std::vector<std::string>& running,
                                               const std::vector<std::string>& next) {
  std::vector<std::size_t> out(running.size(), no_listener);
  std::vector<bool> taken(next.size(), false);
  for (std::size_t i = 0; i < running.size(); ++i) {
    for (std::size_t j = 0; j < next.size(); ++j) {
      if (!taken[j] && next[j] == running[i]) {
        out[i] = j;
        taken[j] = true;
        break;
      }
    }
  }
  return out;
}

// Named limits: distinct CSP values kept per thread and generation (route x site x consent combinations),
// the size of one value (a purpose whose hosts do not fit is left out: its trackers stay blocked), and the
// consent states a thread remembers as recorded (the record log deduplicates again, over 65,536 states).
constexpr std::size_t max_csp_cache_entries = 4096;
constexpr std::size_t max_consent_csp_bytes = 32 * 1024;
constexpr std::size_t max_recorded_states_per_thread = 4096;

// What gateway mode derives from one configuration generation, per worker thread: a session runs on one
// thread, so the caches need no lock (a shared mutex cost more than the CSP it saved), and each thread
// rebuilds its plan on its first exchange under a new generation.
struct Plan {
  std::shared_ptr<const Generation> generation;  // held: a freed generation's address can never match
  ClientAcl trusted;
  policy::PurposeSet exempt;
  std::vector<std::size_t> listener_of;          // per route
  std::vector<std::size_t> running_to_listener;  // per running listener; empty: identity (unit tests)
  std::vector<std::string> origin_ports;         // per route, as ConnectAddress wants it
  std::unordered_map<std::string, std::shared_ptr<const std::string>> csp_cache;
  std::string csp_key;                                            // scratch for lookups
  std::unordered_map<std::uint64_t, std::string> consent_values;  // allowed purposes -> Consent-Purposes value
  std::unordered_map<std::string, std::string> site_of_host;      // host -> registrable domain (PSL)
};

// Named limit: hosts whose site a thread remembers (a gateway serves a handful; Host is the visitor's).
constexpr std::size_t max_site_cache_entries = 1024;

Plan& plan_of(const Exchange& x) {
  thread_local Plan plan;
  if (plan.generation == x.generation) return plan;
  plan = Plan{};
  plan.generation = x.generation;
  const auto& g = x.generation->settings.gateway;
  std::vector<std::string> errors;  // entries were validated by the loader
  plan.trusted = ClientAcl::build(g.trusted_proxies, errors);
  plan.exempt = x.engine().exempt_purposes();
  plan.listener_of = listener_of_routes(g.routes);
  const auto running = running_listen_texts();
  if (!running.empty())
    plan.running_to_listener = map_running_listeners(running, listen_texts(g.routes, plan.listener_of));
  for (const auto& r : g.routes) plan.origin_ports.push_back(std::to_string(r.origin.port));
  return plan;
}

// Purposes in force for the visitor: exempt ones and those granted.
policy::PurposeSet allowed_purposes(const Exchange& x, const Plan& plan) { return plan.exempt | x.consent.granted; }

// The Cookie header as the engine reads it: the one line as is (no copy), or every line joined.
std::string_view cookie_header_of(const Headers& headers, std::string& storage) {
  if (headers.count("Cookie") <= 1) return headers.get("Cookie");
  storage = joined_cookie_header(headers);
  return storage;
}

// A block of the site's own endpoint (a first-party collector path): before any consent, or against it.
ViolationKind block_violation(const Exchange& x) {
  return x.consent.status == policy::ConsentStatus::missing ? ViolationKind::tracker_before_consent
                                                            : ViolationKind::tracker_without_consent;
}

// One decision-log line about `x`, in the forward mode's shape (decision_record: granted, mode, policy).
void log_line(const Exchange& x, DecisionRecord r) {
  auto* log = x.runtime->decision_log();
  if (log == nullptr) return;
  if (x.is_report_only()) r.action = report_only(r.action);
  log->log(r);
}

// The consent cookie that produced `state`, by name and value; empty name when there is none.
std::pair<std::string_view, std::string_view> consent_cookie(const policy::Document& doc, std::string_view cookies,
                                                             policy::ConsentSource source) {
  std::string_view value;
  const auto first_of = [&](const std::vector<std::string>& names) -> std::pair<std::string_view, std::string_view> {
    for (const auto& name : names) {
      if (policy::find_cookie(cookies, name, value)) return {name, value};
    }
    return {};
  };
  switch (source) {
    case policy::ConsentSource::eu_consent:
      return first_of(doc.consent.cookie_names);
    case policy::ConsentSource::tcf:
      return first_of(doc.consent.tcf_cookie_names);
    case policy::ConsentSource::cmp:
      for (const auto& cmp : doc.consent.cmp) {
        if (policy::find_cookie(cookies, cmp.cookie, value)) return {cmp.cookie, value};
      }
      return {};
    default:
      return {};
  }
}

// States this thread has already handed to the record log, by exact cookie value and state: a returning
// visitor costs one hash-set lookup, not an HMAC and the log's lock (issue 6: a record per *new* state).
struct RecordedStates {
  std::uint64_t epoch = 0;
  std::unordered_set<std::string> seen;
  std::string scratch;
  std::shared_ptr<ConsentRecordLog> log;
};

void record_consent(const Exchange& x, std::string_view cookies, std::string_view route_name) {
  if (x.consent.status != policy::ConsentStatus::valid) return;
  thread_local RecordedStates recorded;
  const auto epoch = records_epoch.load(std::memory_order_acquire);
  if (recorded.epoch != epoch) {
    recorded.seen.clear();
    recorded.log = consent_records();
    recorded.epoch = epoch;
  }
  if (!recorded.log) return;
  const auto& engine = x.engine();
  const auto [name, value] = consent_cookie(engine.document(), cookies, x.consent.source);
  if (name.empty()) return;
  // The key is the exact cookie value and the state (granted bits, GPC, policy): built in a reused buffer,
  // so a state already recorded costs no allocation.
  const auto bits = x.consent.granted.bits();
  auto& key = recorded.scratch;
  key.assign(value);
  key += '\0';
  key.append(reinterpret_cast<const char*>(&bits), sizeof bits);
  key += x.consent.gpc ? 'g' : '-';
  key += engine.policy_hash();
  if (recorded.seen.contains(key)) return;
  if (recorded.seen.size() >= max_recorded_states_per_thread) recorded.seen.clear();
  recorded.seen.insert(key);
  std::string state = std::to_string(bits);
  if (x.consent.gpc) state += 'g';
  state += '|';
  state += engine.policy_hash();

  const auto visitor = recorded.log->visitor_hash(value);
  ConsentRecordFields f;
  f.time = std::chrono::system_clock::now();
  f.visitor = visitor;
  f.site = x.first_party.site;
  f.route = route_name;
  f.source = policy::to_string(x.consent.source);
  f.cookie = name;
  f.status = policy::to_string(x.consent.status);
  f.choice_time = x.consent.timestamp;
  const auto exempt = engine.exempt_purposes();
  for (policy::PurposeIndex p = 0; p < engine.purpose_count(); ++p) {
    if (exempt.contains(p)) continue;
    (x.consent.granted.contains(p) ? f.granted : f.refused).push_back(engine.purpose_id(p));
  }
  f.gpc = x.consent.gpc;
  f.policy_hash = engine.policy_hash();
  (void)recorded.log->record(f, state);
}

// The route an exchange was prepared for. The Exchange does not carry its listener, so the route is
// found again from what prepare_gateway_exchange set: the host, the TLS of the client side and the
// upstream it chose. Same precedence as find_route.
const config::GatewayRoute* route_of(const Exchange& x, const Plan& plan) {
  const auto& routes = x.generation->settings.gateway.routes;
  if (!x.upstream.address) return nullptr;
  const config::GatewayRoute* wildcard = nullptr;
  std::size_t wildcard_size = 0;
  const config::GatewayRoute* any = nullptr;
  for (std::size_t k = 0; k < routes.size(); ++k) {
    const auto& r = routes[k];
    if (r.certificate.empty() == x.client_tls || r.origin.is_tls != x.upstream.tls) continue;
    if (r.origin.host != x.upstream.address->host || plan.origin_ports[k] != x.upstream.address->port) continue;
    if (r.hosts.empty()) {
      if (any == nullptr) any = &r;
      continue;
    }
    for (const auto& h : r.hosts) {
      if (!route_host_matches(h, x.host)) continue;
      if (!h.starts_with("*.")) return &r;
      if (h.size() > wildcard_size) {
        wildcard = &r;
        wildcard_size = h.size();
      }
    }
  }
  return wildcard != nullptr ? wildcard : any;
}

std::shared_ptr<const std::string> consent_csp_for(const Exchange& x, const config::GatewayRoute* route, Plan& plan) {
  const auto& g = x.generation->settings.gateway;
  const auto allowed = allowed_purposes(x, plan);
  auto& key = plan.csp_key;
  key.clear();
  const auto bits = allowed.bits();
  key.append(reinterpret_cast<const char*>(&bits), sizeof bits);
  key += route != nullptr ? std::string_view(route->name) : std::string_view{};
  key += '|';
  key += x.first_party.site;
  if (auto it = plan.csp_cache.find(key); it != plan.csp_cache.end()) return it->second;
  const auto& engine = x.engine();
  ConsentCspInput in;
  in.site = x.first_party.site;
  if (route != nullptr) {
    for (const auto& s : route->csp_allow) in.allow.push_back(s);
  }
  for (const auto& s : g.csp_allow) in.allow.push_back(s);
  // The site's declared third parties: each judged like a request from this site with this consent.
  const auto judge = [&](const std::vector<std::string>& hosts) {
    for (const auto& h : hosts) {
      policy::Request req;
      req.method = "GET";
      req.host = std::string_view(h).substr(h.starts_with("*.") ? 2 : 0);
      req.path_and_query = "/";
      req.first_party = x.first_party.site;
      req.consent = x.consent;
      if (x.engine().decide(req).verdict != policy::Verdict::block) in.allow.push_back(h);
    }
  };
  if (route != nullptr) judge(route->third_parties);
  judge(g.third_parties);
  // Exempt purposes first: if the budget runs out, consented purposes are the ones left out, never the
  // strictly necessary ones.
  for (int pass = 0; pass < 2; ++pass) {
    for (policy::PurposeIndex p = 0; p < engine.purpose_count(); ++p) {
      if (!allowed.contains(p) || plan.exempt.contains(p) != (pass == 0)) continue;
      policy::PurposeSet one;
      one.insert(p);
      auto hosts = engine.domains_for(one);
      if (!hosts.empty()) in.purpose_hosts.push_back(std::move(hosts));
    }
  }
  if (g.csp == config::CspMode::report_only) in.report_uri = g.csp_report_path;
  in.max_bytes = max_consent_csp_bytes;
  auto built = build_consent_csp(in);
  auto value = std::make_shared<const std::string>(std::move(built.value));
  if (plan.csp_cache.size() >= max_csp_cache_entries) plan.csp_cache.clear();
  plan.csp_cache.emplace(key, value);
  return value;
}

// --- Filters -------------------------------------------------------------------------------------------

// The forward mode's ConsentGate reads the first party from the page and falls back to the ledger of
// (client address, site). Neither fits a gateway: every request is for the site itself, and behind a
// CDN every visitor has the CDN's address. So the site is the requested host's, and consent comes from
// the request alone (issue 6: "no ledger is needed").
class GatewayConsentGate final : public RequestFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "gateway_consent_gate"; }
  FilterStatus on_request(Exchange& x) const override {
    const auto& engine = x.engine();
    const auto& h = x.request.headers;
    auto& plan = plan_of(x);
    // Every request is for the site itself: its site is the requested host's, so Origin and Referer are
    // not parsed (first_party_of would look both up in the PSL); they still tell navigation and dest.
    FirstPartyInputs in;
    in.method = method_name(x.request.method);
    in.host = x.host;
    in.path = x.path_and_query;
    in.sec_fetch_mode = h.get("Sec-Fetch-Mode");
    in.sec_fetch_dest = h.get("Sec-Fetch-Dest");
    in.accept = h.get("Accept");
    // Sec-Fetch-Site alone still marks a fetch-metadata client (then the site of the host is looked up).
    if (in.sec_fetch_mode.empty() && in.sec_fetch_dest.empty()) in.sec_fetch_site = h.get("Sec-Fetch-Site");
    x.first_party = first_party_of(in);
    x.first_party.has_referer = !trim_ows(h.get("Referer")).empty();
    x.first_party.source = SiteSource::navigation;
    auto site = plan.site_of_host.find(x.host);
    if (site == plan.site_of_host.end()) {
      if (plan.site_of_host.size() >= max_site_cache_entries) plan.site_of_host.clear();
      site = plan.site_of_host.emplace(x.host, std::string(policy::registrable_domain(x.host))).first;
    }
    x.first_party.site = site->second;
    x.is_first_party_request = true;

    std::string joined;
    const auto cookies = cookie_header_of(h, joined);
    policy::ConsentInputs inputs;
    inputs.cookie_header = cookies;
    inputs.sec_gpc = h.get("Sec-GPC");
    inputs.now = x.now;
    x.consent = engine.read_consent(inputs);
    if (x.consent.status == policy::ConsentStatus::valid) {
      const auto* route = route_of(x, plan);
      record_consent(x, cookies, route != nullptr ? std::string_view(route->name) : std::string_view{});
    }

    x.decision = engine.decide(x.policy_request());
    if (x.decision.verdict != policy::Verdict::block) {
      if (x.generation->settings.log_all_exchanges) {
        auto r = decision_record(x);
        r.action = LogAction::allow;
        r.reason = x.decision.reason;
        r.rule_id = x.decision.rule_id;
        r.purpose = engine.purpose_id(x.decision.purpose);
        log_line(x, std::move(r));
      }
      return FilterStatus::proceed;
    }
    x.runtime->stats().blocks.fetch_add(1, std::memory_order_relaxed);
    auto reply = LocalReply::surrogate(x.decision, engine.purpose_label(x.decision.purpose), x.reply_options());
    auto r = decision_record(x);
    r.action = LogAction::block;
    r.reason = x.decision.reason;
    r.rule_id = x.decision.rule_id;
    r.purpose = engine.purpose_id(x.decision.purpose);
    r.status = x.is_report_only() ? 0 : reply.status;
    r.violation = block_violation(x);
    log_line(x, std::move(r));
    if (x.is_report_only()) return FilterStatus::proceed;
    x.local_reply = std::move(reply);
    return FilterStatus::respond;
  }
};

// Removes the cookies of purposes without consent from the Cookie header, judged with x.consent (read
// once by the gate; the forward CookieFilter would consult the ledger, which a gateway has no use for).
class GatewayCookieFilter final : public RequestFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "gateway_cookie_filter"; }
  FilterStatus on_request(Exchange& x) const override {
    if (x.decision.verdict == policy::Verdict::block && !x.is_report_only()) return FilterStatus::proceed;
    auto& headers = x.request.headers;
    if (!headers.contains("Cookie")) return FilterStatus::proceed;
    std::string joined;
    const auto cookies = cookie_header_of(headers, joined);
    const auto& engine = x.engine();
    const auto result = engine.filter_cookie_header(x.policy_request(), cookies);
    if (!result.changed) return FilterStatus::proceed;
    x.runtime->stats().cookie_strips.fetch_add(1, std::memory_order_relaxed);
    // One line per purpose keeps rule and reason exact; names only, never values. Without a ledger a
    // withdrawal cannot be told from a refusal: both are cookie_without_consent.
    for (std::size_t i = 0; i < result.removed.size(); ++i) {
      const auto& first = result.removed[i];
      auto r = decision_record(x);
      r.action = LogAction::strip_cookie;
      r.reason = first.reason;
      r.rule_id = first.rule_id;
      r.purpose = engine.purpose_id(first.purpose);
      r.violation = ViolationKind::cookie_without_consent;
      r.cookie_names.push_back(first.name);
      while (i + 1 < result.removed.size() && result.removed[i + 1].rule_id == first.rule_id &&
             result.removed[i + 1].reason == first.reason) {
        r.cookie_names.push_back(result.removed[++i].name);
      }
      log_line(x, std::move(r));
    }
    if (x.is_report_only()) return FilterStatus::proceed;
    if (result.header.empty()) {
      headers.remove("Cookie");
    } else if (!headers.set("Cookie", result.header)) {
      headers.remove("Cookie");  // an unsendable rewrite fails closed: no cookie at all
    }
    return FilterStatus::proceed;
  }
};

// Forwarded headers and the consent header, towards the origin.
class GatewayRequestHeaders final : public RequestFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "gateway_request_headers"; }
  FilterStatus on_request(Exchange& x) const override {
    const auto& g = x.generation->settings.gateway;
    auto& headers = x.request.headers;
    auto& plan = plan_of(x);
    if (g.forwarded_headers) {
      const std::string host(x.request.authority_text());  // a view into the headers we are about to change
      ForwardedInput in;
      in.client = x.client;
      in.is_trusted_peer = plan.trusted.size() != 0 && plan.trusted.allows(x.client);
      in.is_https = x.client_tls;
      in.host = host;
      apply_forwarded_headers(headers, in);
    }
    if (!g.consent_header.empty()) {
      const auto allowed = allowed_purposes(x, plan);
      auto [it, is_new] = plan.consent_values.try_emplace(allowed.bits());
      if (is_new) {
        const auto& engine = x.engine();
        for (policy::PurposeIndex p = 0; p < engine.purpose_count(); ++p) {
          if (!allowed.contains(p)) continue;
          if (!it->second.empty()) it->second += ", ";
          it->second += engine.purpose_id(p);
        }
      }
      set_consent_header_value(headers, g.consent_header, it->second);
    }
    return FilterStatus::proceed;
  }
};

// Towards the visitor: Set-Cookie (the forward mode's filter), the consent CSP on HTML, and Vary.
class GatewayResponseFilter final : public ResponseFilter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "gateway_response"; }
  void on_response(Exchange& x) const override {
    if (!x.response) return;
    auto& response = *x.response;
    const auto& g = x.generation->settings.gateway;
    const bool had_set_cookie = response.headers.contains("Set-Cookie");
    if (had_set_cookie) set_cookie_.on_response(x);
    const bool is_html = is_html_content_type(response.headers.get("Content-Type"));
    const bool has_page = response.status >= 200 && response.status != 204 && response.status != 304;
    if (is_html && has_page && g.csp != config::CspMode::off) {
      auto& plan = plan_of(x);
      const auto value = consent_csp_for(x, route_of(x, plan), plan);
      const std::string_view header =
          g.csp == config::CspMode::enforce ? "Content-Security-Policy" : "Content-Security-Policy-Report-Only";
      // Never edit or replace the origin's policy: one more policy can only make the result stricter.
      // Adding ours again (a gateway behind a gateway) would change nothing, so it is not repeated.
      bool present = false;
      for (const auto field : response.headers) {
        if (iequals(field.name, header) && field.value == *value) present = true;
      }
      if (!present) (void)response.headers.add(header, *value);
    }
    // The response depends on the visitor's consent (Cookie) when cookies were judged, when it is a page
    // (CSP, and what the origin made of the consent header), or when the origin says it varies on the
    // consent header, which caches in front never see.
    const bool depends = had_set_cookie || is_html || response.status == 304 ||
                         (!g.consent_header.empty() && varies_on(response.headers, g.consent_header));
    if (depends) add_vary(response.headers, "Cookie");
  }

 private:
  SetCookieFilter set_cookie_;
};

FilterChain make_gateway_chain() {
  FilterChain chain;
  chain.request.push_back(std::make_shared<GatewayConsentGate>());
  chain.request.push_back(std::make_shared<GatewayCookieFilter>());
  chain.request.push_back(std::make_shared<GatewayRequestHeaders>());
  chain.response.push_back(std::make_shared<GatewayResponseFilter>());
  return chain;
}

std::string_view path_of(std::string_view path_and_query) { return path_and_query.substr(0, path_and_query.find('?')); }

LocalReply health_reply(const Exchange& x) {
  const auto& s = x.generation->settings;
  nlohmann::json j;
  j["status"] = "ok";
  j["mode"] = std::string(to_string(s.mode));
  j["policy_hash"] = std::string(x.engine().policy_hash());
  j["generation"] = x.generation->number;
  j["routes"] = s.gateway.routes.size();
  j["consent_records"] = consent_records() != nullptr;
  return gateway_reply(200, "OK", "health", "application/json", j.dump() + "\n", options_of(x));
}

}  // namespace

bool is_csp_report(const Exchange& x) noexcept {
  return x.local_reply && x.local_reply->reason_code == std::string_view("csp_report");
}

LocalReply csp_report_reply(const Exchange& x, bool body_consumed) {
  auto options = options_of(x);
  if (body_consumed) options.body_unread = false;
  return gateway_reply(204, "No Content", "csp_report", {}, {}, options);
}

std::size_t record_csp_report(const Exchange& x, std::string_view body) {
  if (body.size() > max_csp_report_body_bytes) return 0;
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) return 0;
  // report-uri sends {"csp-report": {...}} (CSP2); the Reporting API sends [{"type": "csp-violation",
  // "body": {...}}] with camelCase keys. Both are read; at most 16 violations per report.
  struct Violation {
    std::string blocked;
    std::string document;
  };
  std::vector<Violation> violations;
  const auto str = [](const nlohmann::json& o, const char* key) {
    const auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  if (json.is_object() && json.contains("csp-report") && json["csp-report"].is_object()) {
    const auto& r = json["csp-report"];
    violations.push_back({str(r, "blocked-uri"), str(r, "document-uri")});
  } else if (json.is_array()) {
    for (const auto& item : json) {
      if (violations.size() >= 16) break;
      if (!item.is_object() || str(item, "type") != "csp-violation") continue;
      const auto it = item.find("body");
      if (it == item.end() || !it->is_object()) continue;
      violations.push_back({str(*it, "blockedURL"), str(*it, "documentURL")});
    }
  }
  const auto& engine = x.engine();
  // The report request carries the visitor's cookies (same origin): judge with their consent.
  const auto cookies = joined_cookie_header(x.request.headers);
  policy::ConsentInputs inputs;
  inputs.cookie_header = cookies;
  inputs.sec_gpc = x.request.headers.get("Sec-GPC");
  inputs.now = x.now;
  Exchange judged(x.id, x.generation, x.runtime);
  judged.client = x.client;
  judged.request.method = Method::get;
  judged.consent = engine.read_consent(inputs);
  const bool enforced = x.generation->settings.gateway.csp == config::CspMode::enforce;
  std::size_t logged = 0;
  for (const auto& v : violations) {
    const auto host = host_of_url(v.blocked);
    if (host.empty()) continue;  // inline, eval, data: — not a tracker host
    const auto site_host = host_of_url(v.document);
    const std::string site(site_host.empty() ? std::string_view{} : policy::registrable_domain(site_host));
    policy::Request req;
    req.method = "GET";
    req.host = host;
    req.path_and_query = "/";
    req.first_party = site;
    req.consent = judged.consent;
    const auto decision = engine.decide(req);
    auto r = decision_record(judged);
    r.host = host;
    r.path = {};
    r.site = site;
    r.action = enforced ? LogAction::block : LogAction::would_block;
    r.reason = "csp_violation";
    r.rule_id = decision.rule_id;
    r.purpose = engine.purpose_id(decision.purpose);
    if (decision.verdict == policy::Verdict::block) {
      r.violation = judged.consent.status == policy::ConsentStatus::missing ? ViolationKind::tracker_before_consent
                                                                            : ViolationKind::tracker_without_consent;
    }
    log_line(judged, std::move(r));
    ++logged;
  }
  return logged;
}

FilterStatus prepare_gateway_exchange(Exchange& x, const ListenerContext& listener) {
  const auto& g = x.generation->settings.gateway;
  x.client_tls = listener.tls != nullptr;
  const auto target = x.request.parsed_target();
  if (target && (target->form == TargetForm::origin || target->form == TargetForm::absolute)) {
    // Served on any Host: load balancers probe with an address, and reports come from any page.
    const auto path = path_of(target->path_and_query.empty() ? std::string_view("/") : target->path_and_query);
    if (path == g.health_path && (x.request.method == Method::get || x.request.method == Method::head)) {
      x.local_reply = health_reply(x);
      return FilterStatus::respond;
    }
    if (path == g.csp_report_path && x.request.method == Method::post) {
      x.local_reply = csp_report_reply(x, false);
      return FilterStatus::respond;
    }
  }
  // After a reload the route table may list its listeners in another order: this socket's routes are
  // those of the new listener at the same address; none when the address left the configuration.
  const auto& plan = plan_of(x);
  std::size_t index = listener.index;
  if (!plan.running_to_listener.empty()) {
    index = listener.index < plan.running_to_listener.size() ? plan.running_to_listener[listener.index] : no_listener;
  }
  const auto routed = route_request(g.routes, plan.listener_of, index, x.client_tls, x.request);
  switch (routed.miss) {
    case RouteMiss::none:
      break;
    case RouteMiss::unknown_host:
      x.local_reply = gateway_reply(421, "Misdirected Request", "unknown_host", "text/plain; charset=utf-8",
                                    "This server does not serve that host name.\n", options_of(x));
      return FilterStatus::respond;
    case RouteMiss::no_host:
    case RouteMiss::bad_host:
    case RouteMiss::bad_target:
      x.local_reply = LocalReply::error(ReplyKind::bad_request, options_of(x));
      return FilterStatus::respond;
  }
  x.host = routed.host;
  x.port = routed.port;
  x.path_and_query = routed.path_and_query;
  const auto& origin = routed.route->origin;
  x.upstream.address =
      ConnectAddress{origin.host, plan.origin_ports[static_cast<std::size_t>(routed.route - g.routes.data())]};
  x.upstream.tls = origin.is_tls;
  x.upstream.tls_name = origin.host;
  return FilterStatus::proceed;
}

const FilterChain& gateway_chain() {
  static const FilterChain chain = make_gateway_chain();
  return chain;
}

void set_consent_record_log(std::shared_ptr<ConsentRecordLog> log) {
  {
    std::lock_guard lock(records_mutex);
    records_log = std::move(log);
  }
  records_epoch.fetch_add(1, std::memory_order_acq_rel);
}

void set_running_listeners(std::vector<std::string> listens) {
  std::lock_guard lock(running_mutex);
  running_listens = std::move(listens);
}

}  // namespace consent::proxy
