#pragma once
// The validated, plain description of a policy, as config/ produces it from YAML and as Engine::build
// consumes it. No behaviour here: config/ checks syntax and types, Engine::build checks meaning
// (unknown purpose ids, bad patterns) and reports with the SourceLocation of the offending node.
//
// Ownership: everything by value. A Document may be discarded once an Engine is built from it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/decision.hpp"

namespace consent::policy {

struct SourceLocation {
  std::string file;  // as given to the loader, e.g. "config/policies/analytics.yaml"
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown
};

// A string from the config together with where it was written, so that every diagnostic can point at it.
struct Located {
  std::string value;
  SourceLocation where;
};

enum class Exemption : std::uint8_t {
  none,                  // needs consent
  always,                // strictly necessary: never needs consent
  first_party_audience,  // CNIL audience-measurement exemption: first-party only, cookies <= 13 months
};

// A worked example a purpose carries (STYLE.md section 3): a request, the consent in force, and the
// verdict the policy must reach. Engine::build decides every example and reports each one that fails as
// a Diagnostic, so `consentgate check-config`, every load and every reload run them. Not part of the
// policy hash: examples assert the meaning, they do not change it.
struct PurposeExample {
  std::string url;   // "https://www.google-analytics.com/g/collect?v=2"; http(s) or scheme-less
  std::string site;  // the page's site (a host; its registrable domain is used); empty = unknown.
                     // A request with a site carries a Referer, one without does not (email heuristics).
  std::optional<std::string> consent;  // an eu-consent cookie value; absent = no consent signal at all
  bool gpc = false;                    // Sec-GPC: 1
  Verdict expect = Verdict::allow;
  std::string reason;  // expected reason code ("purpose_not_granted"); empty = not checked
  SourceLocation where;
};

struct PurposeDef {
  std::string id;     // "audience-measurement"; [a-z0-9-]+
  std::string label;  // human label for pages and reports
  Exemption exemption = Exemption::none;
  std::vector<std::string> aliases;  // other keys accepted in consent cookies ("analytics", "statistics")
  SourceLocation where;
  std::vector<PurposeExample> examples = {};  // last and defaulted: {id, label, exemption, aliases, where} still reads
};

// One tracker: a purpose and the ways to recognise it. Rule ids in decisions are "<id>/domains[i]",
// "<id>/cookies[i]", "<id>/urls[i]".
struct TrackerRule {
  std::string id;                // unique across the whole policy, e.g. "google-analytics"
  Located purpose;               // a PurposeDef id or alias
  std::vector<Located> domains;  // host suffixes: "google-analytics.com" matches it and every subdomain
  std::vector<Located> cookies;  // cookie-name patterns: exact "_gid", prefix/glob "_ga_*", "*_fbp"
  std::vector<Located> urls;     // RE2, matched against "host/path?query" (no scheme), unanchored
  // When true, cookies matched by this rule count only when set/sent first-party (e.g. a site's own
  // "_ga"): used to scope audience-measurement exemptions.
  bool first_party_only = false;
  SourceLocation where;
  // Which list the rule comes from ("EasyPrivacy", "own (consentgate maintainers)"); empty = unstated.
  // Attribution only: not part of the policy hash. Last, so that positional initialisers still read.
  std::string source = {};
};

// IAB TCF v2.2: one of our purposes is granted by a TC string when all of these TCF purposes have consent
// (e.g. advertising-personalised = P1 and P3 and P4). Vendors are not mapped (a future extension).
struct TcfMapping {
  Located purpose;
  std::vector<int> tcf_purposes;      // 1..11
  std::vector<int> special_features;  // 1..2, optional: also required when listed
  SourceLocation where;
};

// A consent-management platform cookie (issue 5). format names a parser known to the engine:
// "tarteaucitron", "didomi", "onetrust", "cookiebot", "axeptio", "klaro".
struct CmpSource {
  std::string cookie;  // cookie name
  std::string format;
  std::map<std::string, Located> categories;  // CMP category or vendor -> our purpose id
  SourceLocation where;
};

struct ConsentSettings {
  std::vector<std::string> cookie_names{"eu-consent"};  // first is canonical; others are aliases ("eu.consent")
  std::vector<std::string> tcf_cookie_names{"euconsent-v2", "eupubconsent-v2"};
  std::int64_t lifetime_seconds = 6LL * 30 * 24 * 3600;  // a choice older than this (per its ts) is refusal
  std::vector<TcfMapping> tcf;
  std::vector<Located> gpc_refuses;  // purposes refused when Sec-GPC: 1
  // The user's own standing choices (personal proxy): purpose id -> allowed. Effective consent is the
  // site's AND this; a purpose absent here is not narrowed.
  std::map<std::string, bool> user_override;
  std::vector<CmpSource> cmp;
};

// Caps applied to Set-Cookie lifetimes that are kept.
struct CookieCaps {
  std::int64_t audience_max_age_seconds = 13LL * 30 * 24 * 3600 + 5 * 24 * 3600;  // 13 months (395 days)
  std::int64_t consent_max_age_seconds = 6LL * 30 * 24 * 3600 + 3 * 24 * 3600;    // 6 months (183 days)
};

// Email-pixel heuristics (issue 5): an image fetched from an email context with a long unique token.
struct EmailHeuristics {
  bool enabled = false;
  std::vector<Located> webmail_origins;   // sites whose pages show emails ("mail.example.com")
  std::vector<Located> mail_user_agents;  // RE2 on User-Agent ("Thunderbird", "Outlook")
  std::size_t min_token_length = 20;      // a path segment or query value this long counts as a token
};

struct Document {
  std::string name;     // e.g. "consentgate default pack"
  std::string version;  // the pack's own version string
  std::vector<PurposeDef> purposes;
  std::vector<TrackerRule> trackers;
  ConsentSettings consent;
  CookieCaps caps;
  EmailHeuristics email;
  // Hosts that are never judged (operator allow-list), same syntax as TrackerRule::domains.
  std::vector<Located> allow_domains;
};

}  // namespace consent::policy
