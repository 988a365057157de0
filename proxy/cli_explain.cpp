// `consentgate explain URL ...`: what the engine decides for one request and its response, and why.
// The tool to reach for when a site breaks or a tracker gets through; it runs the same Engine calls as
// the proxy, on facts given on the command line instead of read from traffic.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/engine_loader.hpp"
#include "policy/cookie_header.hpp"
#include "policy/host.hpp"
#include "proxy/cli.hpp"

namespace consent::proxy::cli {
namespace {

struct ExplainOptions {
  std::string url;
  std::string config = "config/default.yaml";
  std::string site;
  std::string method = "GET";
  std::optional<std::string> consent;
  std::optional<std::string> tcf;
  bool gpc = false;
  std::vector<std::string> cookies;
  std::vector<std::string> set_cookies;
  std::string dest = "unknown";
  std::optional<std::int64_t> now;
  bool json = false;
};

struct Target {
  std::string host;  // normalised
  std::string path_and_query;
};

// "https://user@Host:8443/p?q", "host/p" or "host": only the host and the origin-form path matter.
std::optional<Target> parse_target(std::string_view url) {
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  auto path_start = url.find_first_of("/?#");
  auto authority = url.substr(0, path_start);
  std::string path(path_start == std::string_view::npos ? std::string_view("/") : url.substr(path_start));
  if (auto hash = path.find('#'); hash != std::string::npos) path.erase(hash);
  if (path.empty() || path.front() != '/') path.insert(0, "/");
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  auto host = policy::normalise_host(authority);
  if (!host || host->empty()) return std::nullopt;
  return Target{std::move(*host), std::move(path)};
}

policy::FetchDest parse_dest(const std::string& d) {
  static const std::map<std::string, policy::FetchDest> dests{
      {"unknown", policy::FetchDest::unknown}, {"document", policy::FetchDest::document},
      {"iframe", policy::FetchDest::iframe},   {"script", policy::FetchDest::script},
      {"image", policy::FetchDest::image},     {"style", policy::FetchDest::style},
      {"xhr", policy::FetchDest::xhr},         {"empty", policy::FetchDest::xhr},
      {"other", policy::FetchDest::other},
  };
  auto it = dests.find(d);
  return it == dests.end() ? policy::FetchDest::unknown : it->second;
}

std::string_view verdict_text(policy::Verdict v) {
  switch (v) {
    case policy::Verdict::allow:
      return "allow";
    case policy::Verdict::strip_cookies:
      return "strip_cookies";
    case policy::Verdict::block:
      return "block";
  }
  return "allow";
}

// The stable name (JSON) and a description (text) of each surrogate.
std::pair<std::string_view, std::string_view> surrogate_text(policy::Surrogate s) {
  switch (s) {
    case policy::Surrogate::none:
      return {"none", "none"};
    case policy::Surrogate::no_content:
      return {"no_content", "204 No Content"};
    case policy::Surrogate::gif:
      return {"gif", "200, 1x1 transparent GIF"};
    case policy::Surrogate::empty_js:
      return {"empty_js", "200, empty script"};
    case policy::Surrogate::empty_css:
      return {"empty_css", "200, empty stylesheet"};
    case policy::Surrogate::forbidden_page:
      return {"forbidden_page", "403 page"};
  }
  return {"none", "none"};
}

std::string_view set_cookie_action_text(policy::SetCookieAction a) {
  switch (a) {
    case policy::SetCookieAction::keep:
      return "keep";
    case policy::SetCookieAction::drop:
      return "drop";
    case policy::SetCookieAction::cap:
      return "cap";
  }
  return "keep";
}

nlohmann::json or_null(std::string_view s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

int explain(const ExplainOptions& o) {
  auto target = parse_target(o.url);
  if (!target) {
    std::cerr << "consentgate explain: " << o.url << ": no valid host in this URL\n";
    return 2;
  }
  std::string first_party;
  if (!o.site.empty()) {
    auto site = parse_target(o.site);
    if (!site) {
      std::cerr << "consentgate explain: --site " << o.site << ": no valid host\n";
      return 2;
    }
    first_party = std::string(policy::registrable_domain(site->host));
  }
  auto loaded = config::load_engine(o.config);
  if (!loaded.engine) {
    for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << '\n';
    return 1;
  }
  const policy::Engine& engine = *loaded.engine;
  const auto& consent_cfg = engine.document().consent;

  // The Cookie header the browser would send: consent signals first, then the named cookies.
  std::string cookie_header;
  const auto add_cookie = [&cookie_header](std::string_view name, std::string_view value) {
    if (!cookie_header.empty()) cookie_header += "; ";
    cookie_header += name;
    cookie_header += '=';
    cookie_header += value;
  };
  if (o.consent && !consent_cfg.cookie_names.empty()) add_cookie(consent_cfg.cookie_names.front(), *o.consent);
  if (o.tcf && !consent_cfg.tcf_cookie_names.empty()) add_cookie(consent_cfg.tcf_cookie_names.front(), *o.tcf);
  for (const auto& c : o.cookies) {
    auto eq = c.find('=');
    add_cookie(c.substr(0, eq), eq == std::string::npos ? std::string_view("1") : std::string_view(c).substr(eq + 1));
  }

  const std::int64_t now = o.now ? *o.now : static_cast<std::int64_t>(std::time(nullptr));
  const auto dest = parse_dest(o.dest);
  const bool is_navigation = dest == policy::FetchDest::document;
  if (first_party.empty() && is_navigation) first_party = std::string(policy::registrable_domain(target->host));

  policy::Request request;
  request.method = o.method;
  request.host = target->host;
  request.path_and_query = target->path_and_query;
  request.first_party = first_party;
  request.dest = dest;
  request.is_navigation = is_navigation;
  request.has_referer = !first_party.empty();
  request.consent = engine.read_consent(policy::ConsentInputs{cookie_header, o.gpc ? "1" : "", now});

  const auto decision = engine.decide(request);
  const auto cookie_result = engine.filter_cookie_header(request, cookie_header);
  std::vector<policy::SetCookieResult> set_cookie_results;
  for (const auto& h : o.set_cookies) set_cookie_results.push_back(engine.filter_set_cookie(request, h, now));

  std::vector<std::string> granted;
  for (std::size_t i = 0; i < engine.purpose_count(); ++i) {
    const auto p = static_cast<policy::PurposeIndex>(i);
    if (request.consent.granted.contains(p)) granted.emplace_back(engine.purpose_id(p));
  }
  const auto removal_of = [&cookie_result](std::string_view name) -> const policy::CookieRemoval* {
    for (const auto& r : cookie_result.removed) {
      if (r.name == name) return &r;
    }
    return nullptr;
  };
  const auto cookies = policy::parse_cookie_header(cookie_header);

  if (o.json) {
    nlohmann::json j;
    j["url"] = o.url;
    j["method"] = o.method;
    j["host"] = target->host;
    j["path"] = target->path_and_query;
    j["site"] = or_null(first_party);
    j["third_party"] = policy::is_third_party(target->host, first_party);
    j["dest"] = o.dest;
    j["consent"] = {{"status", policy::to_string(request.consent.status)},
                    {"source", policy::to_string(request.consent.source)},
                    {"gpc", request.consent.gpc},
                    {"granted", granted}};
    j["decision"] = {
        {"verdict", verdict_text(decision.verdict)},
        {"purpose", or_null(engine.purpose_id(decision.purpose))},
        {"rule", or_null(decision.rule_id)},
        {"source", or_null(engine.rule_source(decision.rule_id))},
        {"reason", decision.reason},
        {"surrogate", or_null(decision.verdict == policy::Verdict::block ? surrogate_text(decision.surrogate).first
                                                                         : std::string_view{})}};
    auto& jc = j["cookies"] = nlohmann::json::array();
    for (const auto& c : cookies) {
      const auto* r = removal_of(c.name);
      jc.push_back({{"name", c.name},
                    {"action", r ? "remove" : "keep"},
                    {"purpose", r ? or_null(engine.purpose_id(r->purpose)) : nullptr},
                    {"rule", r ? or_null(r->rule_id) : nullptr},
                    {"source", r ? or_null(engine.rule_source(r->rule_id)) : nullptr},
                    {"reason", r ? or_null(r->reason) : nullptr}});
    }
    auto& js = j["set_cookies"] = nlohmann::json::array();
    for (const auto& s : set_cookie_results) {
      js.push_back({{"name", s.name},
                    {"action", set_cookie_action_text(s.action)},
                    {"purpose", or_null(engine.purpose_id(s.purpose))},
                    {"rule", or_null(s.rule_id)},
                    {"source", or_null(engine.rule_source(s.rule_id))},
                    {"reason", s.reason},
                    {"header", s.action == policy::SetCookieAction::cap ? nlohmann::json(s.header) : nullptr}});
    }
    j["policy_hash"] = engine.policy_hash();
    std::cout << j.dump() << '\n';
    return 0;
  }

  const auto purpose_text = [&engine](policy::PurposeIndex p) {
    if (p == policy::no_purpose) return std::string("none");
    return std::string(engine.purpose_id(p)) + " (" + std::string(engine.purpose_label(p)) + ")";
  };
  std::cout << "request    " << o.method << ' ' << target->host << target->path_and_query << '\n';
  std::cout << "site       "
            << (first_party.empty()
                    ? std::string("unknown (counts as third party)")
                    : first_party + (policy::is_third_party(target->host, first_party) ? " (third-party request)"
                                                                                       : " (first-party request)"))
            << '\n';
  std::cout << "consent    " << policy::to_string(request.consent.status) << " via "
            << policy::to_string(request.consent.source) << (request.consent.gpc ? ", narrowed by Sec-GPC" : "")
            << "; granted: ";
  if (granted.empty()) std::cout << "nothing";
  for (std::size_t i = 0; i < granted.size(); ++i) std::cout << (i ? ", " : "") << granted[i];
  std::cout << '\n';
  std::cout << "verdict    " << verdict_text(decision.verdict) << '\n';
  std::cout << "purpose    " << purpose_text(decision.purpose) << '\n';
  std::cout << "rule       " << (decision.rule_id.empty() ? "none" : decision.rule_id) << '\n';
  // Where the rule comes from (own knowledge, a list and its version): what a user needs to report a wrong rule.
  if (const std::string_view source = engine.rule_source(decision.rule_id); !source.empty())
    std::cout << "source     " << source << '\n';
  std::cout << "reason     " << decision.reason << '\n';
  if (decision.verdict == policy::Verdict::block) {
    const auto [name, description] = surrogate_text(decision.surrogate);
    std::cout << "surrogate  " << name << " (" << description << ")\n";
  }
  for (const auto& c : cookies) {
    std::cout << "cookie     " << c.name << ": ";
    if (const auto* r = removal_of(c.name)) {
      std::cout << "removed (" << purpose_text(r->purpose) << ", rule " << r->rule_id << ", " << r->reason << ")\n";
    } else {
      std::cout << "sent\n";
    }
  }
  for (const auto& s : set_cookie_results) {
    std::cout << "set-cookie " << (s.name.empty() ? "(invalid)" : s.name) << ": " << set_cookie_action_text(s.action)
              << " (" << purpose_text(s.purpose) << ", rule " << (s.rule_id.empty() ? "none" : s.rule_id) << ", "
              << s.reason << ")";
    if (s.action == policy::SetCookieAction::cap) std::cout << " -> " << s.header;
    std::cout << '\n';
  }
  std::cout << "policy     " << engine.policy_hash() << '\n';
  return 0;
}

}  // namespace

void add_explain(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("explain", "show what the engine decides for a request and its response, and why");
  auto o = std::make_shared<ExplainOptions>();
  cmd->add_option("url", o->url, "the request URL (http://host/path?query)")->required();
  cmd->add_option("--config", o->config, "settings file")->capture_default_str();
  cmd->add_option("--site", o->site, "the page the request is made from (host or URL); default: unknown");
  cmd->add_option("--method", o->method, "request method")->capture_default_str();
  cmd->add_option("--consent", o->consent, "value of the eu-consent cookie");
  cmd->add_option("--tcf", o->tcf, "IAB TCF v2.2 TC string (euconsent-v2)");
  cmd->add_flag("--gpc", o->gpc, "send Sec-GPC: 1");
  cmd->add_option("--cookie", o->cookies, "a cookie the request carries: NAME or NAME=VALUE (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--set-cookie", o->set_cookies, "a Set-Cookie header value of the response (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--dest", o->dest, "what the fetch is for (Sec-Fetch-Dest); document means a navigation")
      ->check(CLI::IsMember({"unknown", "document", "iframe", "script", "image", "style", "xhr", "empty", "other"}))
      ->capture_default_str();
  cmd->add_option("--now", o->now, "the time, in epoch seconds (default: now)");
  cmd->add_flag("--json", o->json, "print one JSON object");
  cmd->callback([&exit_code, o] { exit_code = explain(*o); });
}

}  // namespace consent::proxy::cli
