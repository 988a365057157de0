// The consent policy engine.
//
// Decision semantics (decide):
//  1. A host matched by allow_domains is never judged: allow, allow_listed.
//  2. Tracker rules are found by host (domain patterns, longest suffix wins) and by "host/path?query" (the
//     URL set: it catches first-party recorders, e.g. a session-replay script served from the site's own
//     host). Each matching rule is judged on its purpose:
//       exempt `always`                                   -> allow, exempt
//       `first_party_audience` and the request is first-party -> allow, exempt_first_party_audience
//       granted by the consent in force (status valid)    -> allow, purpose_granted
//       otherwise                                         -> refused
//     When several rules match, the most restrictive wins (refused > granted > audience > exempt); among
//     equals, domain rules before URL rules, then configuration order.
//  3. Refused: a top-level navigation (is_navigation), or a first-party request that no refusing URL rule
//     matched, is not blocked (the person asked for that site): strip_cookies, first_party_navigation,
//     and the caller filters the Cookie header. Otherwise block, reason from the consent: gpc_refused
//     when a valid consent was narrowed by Sec-GPC for that purpose, else consent_missing /
//     consent_malformed / consent_expired / purpose_not_granted. The surrogate follows the fetch
//     destination (image gif, script empty_js, style empty_css, document/iframe forbidden_page, else
//     204), guessed from the path's extension when the destination is unknown.
//  4. No rule matched: the email heuristics (issue 5), when enabled and the policy has an
//     `email-tracking` purpose that is not granted: a third-party image fetch (dest image, or unknown dest
//     with an image or extension-less path) from an email context (no Referer, a mail User-Agent, or a
//     webmail first party) whose URL carries a token (a run of >= min_token_length [A-Za-z0-9_-] with a
//     piece mixing letters and digits, so that "newsletter-header-2024" is not one) -> block, gif,
//     email_pixel_heuristic. Rules outrank heuristics: a host that some rule judged is not guessed at.
//  5. Otherwise allow, no_rule.
// Fail closed: a ConsentState whose status is not `valid` grants nothing, whatever its `granted` bits.
//
// Cookie header (filter_cookie_header): each cookie name is judged like a rule (tiers: exact names, then
// prefixes, then globs; most restrictive within the first tier that applies). first_party_only rules apply
// only first-party, and there they outrank the general rules of their tier. Refused -> removed with the consent reason.
// On a third-party tracker host whose purpose is refused, every cookie not exempt `always` is removed
// (cookie_of_blocked_host).
//
// Set-Cookie (filter_set_cookie): unparseable -> drop (set_cookie_invalid); blocked tracker host -> drop
// unless exempt; refused cookie name -> drop; consent cookies -> capped to caps.consent_max_age_seconds;
// first-party exempt audience cookies -> capped to caps.audience_max_age_seconds; else keep.
#include "policy/engine.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "policy/cookie_header.hpp"
#include "policy/cookie_matcher.hpp"
#include "policy/detail/email_token.hpp"
#include "policy/domain_matcher.hpp"
#include "policy/eu_consent.hpp"
#include "policy/host.hpp"
#include "policy/set_cookie.hpp"
#include "policy/url_matcher.hpp"

namespace consent::policy {
namespace {

constexpr std::string_view email_purpose_id = "email-tracking";
constexpr std::string_view email_rule_id = "email/heuristics";
constexpr std::size_t min_email_token_length = 8;
constexpr std::size_t max_quoted_bytes = 96;  // patterns quoted in diagnostics are cut here

enum class Outcome : std::uint8_t { exempt, exempt_audience, granted, refused };  // ascending restriction

enum class PatternKind : std::uint8_t { domain, cookie, url };

// A domain rule's value in the host table carries its purpose next to its entry number, so that judging
// a host read from the table's record needs no other cache line (issue 2: at 100k domains `entry_purpose`
// was one more miss per decision). Named limit: a policy with more patterns is refused at load.
constexpr unsigned domain_entry_bits = 24;
constexpr std::size_t max_pattern_entries = (std::size_t{1} << domain_entry_bits) - 1;
constexpr std::uint32_t domain_value(std::uint32_t entry, PurposeIndex purpose) noexcept {
  return entry | std::uint32_t{purpose} << domain_entry_bits;
}
constexpr std::uint32_t domain_entry(std::uint32_t value) noexcept {
  return value & ((std::uint32_t{1} << domain_entry_bits) - 1);
}
constexpr PurposeIndex domain_purpose(std::uint32_t value) noexcept {
  return static_cast<PurposeIndex>(value >> domain_entry_bits);
}

struct Entry {
  std::string rule_id;  // "<tracker>/domains[i]"
  PurposeIndex purpose = no_purpose;
  bool first_party_only = false;
  PatternKind kind = PatternKind::domain;
  std::string pattern;  // canonical domain pattern (domains_for) or as configured
};

// What decide() reads of an entry, packed densely: with 100k domains the entries no longer fit in cache,
// and one cache line per candidate is what a lookup can afford.
struct HotEntry {
  std::string_view rule_id;  // into Entry::rule_id
  PurposeIndex purpose = no_purpose;
  bool first_party_only = false;
};

struct PurposeInfo {
  std::string id;
  std::string label;
  Exemption exemption = Exemption::none;
};

std::string quote(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  const std::size_t n = std::min(s.size(), max_quoted_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (s[i] == '"' || s[i] == '\\') {
      out += '\\';
      out += s[i];
    } else if (u < 0x20 || u == 0x7F) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    } else {
      out += s[i];
    }
  }
  if (s.size() > n) out += "...";
  out += '"';
  return out;
}

std::string location_text(const SourceLocation& w) {
  std::string out = w.file.empty() ? std::string("<unknown>") : w.file;
  if (w.line > 0) out += ":" + std::to_string(w.line) + ":" + std::to_string(w.column);
  return out;
}

bool is_purpose_id(std::string_view id) noexcept {
  if (id.empty()) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// FNV-1a 64 over a length-prefixed serialisation: no two different Documents serialise alike.
class Hasher {
 public:
  void bytes(std::string_view s) noexcept {
    number(static_cast<std::int64_t>(s.size()));
    raw(s);
  }
  void number(std::int64_t v) noexcept {
    std::array<char, 8> b{};
    auto u = static_cast<std::uint64_t>(v);
    for (char& c : b) {
      c = static_cast<char>(u & 0xFF);
      u >>= 8;
    }
    raw(std::string_view(b.data(), b.size()));
  }
  [[nodiscard]] std::string hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (std::size_t i = 0; i < 16; ++i) out[15 - i] = digits[(h_ >> (4 * i)) & 0xF];
    return out;
  }

 private:
  void raw(std::string_view s) noexcept {
    for (char c : s) h_ = (h_ ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  std::uint64_t h_ = 14695981039346656037ULL;
};

std::string policy_hash_of(const Document& doc) {
  Hasher h;
  const auto located_list = [&h](const std::vector<Located>& list) {
    h.number(static_cast<std::int64_t>(list.size()));
    for (const Located& l : list) h.bytes(l.value);
  };
  h.bytes("consentgate-policy-v1");
  h.bytes(doc.name);
  h.bytes(doc.version);
  h.number(static_cast<std::int64_t>(doc.purposes.size()));
  for (const PurposeDef& p : doc.purposes) {
    h.bytes(p.id);
    h.bytes(p.label);
    h.number(static_cast<std::int64_t>(p.exemption));
    h.number(static_cast<std::int64_t>(p.aliases.size()));
    for (const std::string& a : p.aliases) h.bytes(a);
  }
  h.number(static_cast<std::int64_t>(doc.trackers.size()));
  for (const TrackerRule& t : doc.trackers) {
    h.bytes(t.id);
    h.bytes(t.purpose.value);
    located_list(t.domains);
    located_list(t.cookies);
    located_list(t.urls);
    h.number(t.first_party_only ? 1 : 0);
  }
  const ConsentSettings& c = doc.consent;
  h.number(static_cast<std::int64_t>(c.cookie_names.size()));
  for (const std::string& n : c.cookie_names) h.bytes(n);
  h.number(static_cast<std::int64_t>(c.tcf_cookie_names.size()));
  for (const std::string& n : c.tcf_cookie_names) h.bytes(n);
  h.number(c.lifetime_seconds);
  h.number(static_cast<std::int64_t>(c.tcf.size()));
  for (const TcfMapping& m : c.tcf) {
    h.bytes(m.purpose.value);
    h.number(static_cast<std::int64_t>(m.tcf_purposes.size()));
    for (int p : m.tcf_purposes) h.number(p);
    h.number(static_cast<std::int64_t>(m.special_features.size()));
    for (int f : m.special_features) h.number(f);
  }
  located_list(c.gpc_refuses);
  h.number(static_cast<std::int64_t>(c.user_override.size()));
  for (const auto& [purpose, allowed] : c.user_override) {
    h.bytes(purpose);
    h.number(allowed ? 1 : 0);
  }
  h.number(static_cast<std::int64_t>(c.cmp.size()));
  for (const CmpSource& s : c.cmp) {
    h.bytes(s.cookie);
    h.bytes(s.format);
    h.number(static_cast<std::int64_t>(s.categories.size()));
    for (const auto& [category, purpose] : s.categories) {
      h.bytes(category);
      h.bytes(purpose.value);
    }
  }
  h.number(doc.caps.audience_max_age_seconds);
  h.number(doc.caps.consent_max_age_seconds);
  h.number(doc.email.enabled ? 1 : 0);
  located_list(doc.email.webmail_origins);
  located_list(doc.email.mail_user_agents);
  h.number(static_cast<std::int64_t>(doc.email.min_token_length));
  located_list(doc.allow_domains);
  return h.hex();
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view path_only(std::string_view path_and_query) noexcept {
  return path_and_query.substr(0, path_and_query.find_first_of("?#"));
}

// The extension of the last path segment, without the dot; empty when there is none.
std::string_view extension(std::string_view path_and_query) noexcept {
  const std::string_view path = path_only(path_and_query);
  const std::string_view last = path.substr(path.rfind('/') + 1);  // npos + 1 == 0
  const std::size_t dot = last.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : last.substr(dot + 1);
}

bool is_image_extension(std::string_view ext) noexcept {
  for (std::string_view e : {"gif", "png", "jpg", "jpeg", "webp", "bmp", "ico", "svg", "avif"})
    if (iequals(ext, e)) return true;
  return false;
}

Surrogate surrogate_for(const Request& r) noexcept {
  switch (r.dest) {
    case FetchDest::image:
      return Surrogate::gif;
    case FetchDest::script:
      return Surrogate::empty_js;
    case FetchDest::style:
      return Surrogate::empty_css;
    case FetchDest::document:
    case FetchDest::iframe:
      return Surrogate::forbidden_page;
    case FetchDest::xhr:
    case FetchDest::other:
      return Surrogate::no_content;
    case FetchDest::unknown:
      break;
  }
  const std::string_view ext = extension(r.path_and_query);
  if (is_image_extension(ext)) return Surrogate::gif;
  if (iequals(ext, "js") || iequals(ext, "mjs")) return Surrogate::empty_js;
  if (iequals(ext, "css")) return Surrogate::empty_css;
  if (iequals(ext, "html") || iequals(ext, "htm")) return Surrogate::forbidden_page;
  return Surrogate::no_content;
}

// is_third_party without the Public Suffix List when the answer is certain, which is most of the time: two
// hosts share a registrable domain only if they share a label-aligned suffix of at least two labels (a
// single-label registrable domain is a host that is its own site, so both would be equal). Only hosts
// sharing such a suffix ("a.bbc.co.uk" and "bbc.co.uk", or "x.co.uk" and "y.co.uk") ask libpsl.
bool third_party(std::string_view host, std::string_view first_party) noexcept {
  if (first_party.empty()) return true;
  if (host == first_party) return false;
  std::size_t i = host.size();
  std::size_t j = first_party.size();
  while (i > 0 && j > 0 && host[i - 1] == first_party[j - 1]) {
    --i;
    --j;
  }
  const std::string_view common = host.substr(i);
  const bool aligned = (i == 0 || host[i - 1] == '.') && (j == 0 || first_party[j - 1] == '.');
  const auto dots = static_cast<std::size_t>(std::count(common.begin(), common.end(), '.'));
  if (dots < (aligned ? 1U : 2U)) return true;
  // The shared site would be a label-aligned suffix of what the two have in common; when that common part
  // is a public suffix ("co.uk" for "x.co.uk" and "bbc.co.uk") no site fits in it. One PSL lookup instead
  // of one per label of the host (about 15k instructions saved per such request).
  const std::string_view shared = aligned ? common : common.substr(common.find('.') + 1);
  if (is_public_suffix(shared)) return true;
  // first_party is a registrable domain by contract: one Public Suffix List lookup, not two. A caller that
  // passed a longer host (a subdomain of the host's site) still gets the exact answer.
  const std::string_view site = registrable_domain(host);
  if (site == first_party) return false;
  if (first_party.size() > site.size() && first_party.ends_with(site) &&
      first_party[first_party.size() - site.size() - 1] == '.')
    return is_third_party(host, first_party);
  return true;
}

// Built member by member: GCC 12 warns -Wmaybe-uninitialized on a braced `{{}, ...}` Diagnostic at -O2.
Diagnostic unlocated(std::string key_path, std::string message) {
  Diagnostic d;
  d.key_path = std::move(key_path);
  d.message = std::move(message);
  return d;
}

// A top-level navigation is its own first party (Request::is_navigation), whatever first_party says.
bool is_first_party(const Request& r) noexcept { return r.is_navigation || !third_party(r.host, r.first_party); }

}  // namespace

struct Engine::Impl {
  Document doc;
  std::vector<PurposeInfo> purposes;
  std::vector<std::pair<std::string, PurposeIndex>> keys;  // id or alias -> index, sorted
  PurposeSet exempt_always;
  std::vector<Entry> entries;  // matcher values index this; never resized after build
  std::vector<HotEntry, detail::HugePageAllocator<HotEntry>> hot;  // parallel to entries
  // Parallel to entries, one byte each: what judging a candidate reads. At 100k domains this stays in
  // cache where `hot` does not; a decision reads `hot` once, for the winner's rule id.
  std::vector<PurposeIndex, detail::HugePageAllocator<PurposeIndex>> entry_purpose;
  PurposeSet audience_purposes;             // Exemption::first_party_audience
  std::vector<std::string> allow_rule_ids;  // "allow_domains[i]"
  DomainMatcher allow;
  DomainMatcher domains;
  CookieMatcher cookies;
  UrlMatcher urls;
  ConsentConfig consent;
  std::vector<std::string> consent_cookie_names;
  // Email heuristics.
  PurposeIndex email_purpose = no_purpose;
  DomainMatcher webmail;
  std::unique_ptr<RE2::Set> mail_agents;
  std::string hash;
  EngineSummary summary;
  std::vector<std::pair<std::string, std::string>> tracker_sources;  // tracker id -> source, sorted

  [[nodiscard]] Outcome judge(PurposeIndex p, bool first_party, const ConsentState& c) const noexcept {
    if (p >= purposes.size()) return Outcome::refused;  // cannot happen after build; fail closed
    switch (purposes[p].exemption) {
      case Exemption::always:
        return Outcome::exempt;
      case Exemption::first_party_audience:
        if (first_party) return Outcome::exempt_audience;
        break;
      case Exemption::none:
        break;
    }
    return c.status == ConsentStatus::valid && c.granted.contains(p) ? Outcome::granted : Outcome::refused;
  }

  [[nodiscard]] std::string_view refusal_reason(PurposeIndex p, const ConsentState& c) const noexcept {
    switch (c.status) {
      case ConsentStatus::missing:
        return reason::consent_missing;
      case ConsentStatus::malformed:
        return reason::consent_malformed;
      case ConsentStatus::expired:
        return reason::consent_expired;
      case ConsentStatus::valid:
        break;
    }
    return c.gpc && consent.gpc_refuses.contains(p) ? reason::gpc_refused : reason::purpose_not_granted;
  }

  struct HostJudgement {
    bool matched = false;
    Outcome outcome = Outcome::exempt;
    std::uint32_t entry = 0;
  };

  // The most restrictive of the domain rules matching the host.
  [[nodiscard]] HostJudgement judge_host(std::string_view host, bool first_party, const ConsentState& c) const {
    HostJudgement j;
    for (std::uint32_t v : domains.match(host)) {
      const Outcome o = judge(domain_purpose(v), first_party, c);
      if (!j.matched || o > j.outcome) j = {true, o, domain_entry(v)};
    }
    return j;
  }

  struct CookieJudgement {
    bool matched = false;
    Outcome outcome = Outcome::exempt;
    std::uint32_t entry = 0;
  };

  [[nodiscard]] CookieJudgement judge_cookie(std::string_view name, bool first_party, const ConsentState& c) const {
    // A first_party_only rule that applies is the operator scoping this very cookie to their own site
    // (a first-party "_ga" measured as exempt audience): within a tier it outranks the general rules,
    // which would otherwise always be the more restrictive. Across tiers the more specific tier wins.
    CookieJudgement general;
    CookieJudgement scoped;
    cookies.match(name, [&](std::uint32_t e, CookieMatcher::Tier) {
      const HotEntry& entry = hot[e];
      if (entry.first_party_only && !first_party) return false;
      CookieJudgement& j = entry.first_party_only ? scoped : general;
      const Outcome o = judge(entry.purpose, first_party, c);
      if (!j.matched || o > j.outcome) j = {true, o, e};
      return true;
    });
    return scoped.matched ? scoped : general;
  }

  [[nodiscard]] bool is_consent_cookie(std::string_view name) const noexcept {
    return std::find(consent_cookie_names.begin(), consent_cookie_names.end(), name) != consent_cookie_names.end();
  }

  // Cheapest tests first: the Public Suffix List is consulted last, through `is_first_party`.
  template <class IsFirstParty>
  [[nodiscard]] bool is_email_pixel(const Request& r, IsFirstParty&& is_first_party) const noexcept {
    if (email_purpose == no_purpose) return false;
    if (judge(email_purpose, false, r.consent) != Outcome::refused) return false;
    if (r.dest != FetchDest::image) {
      if (r.dest != FetchDest::unknown) return false;
      const std::string_view ext = extension(r.path_and_query);
      if (!ext.empty() && !is_image_extension(ext)) return false;
    }
    // No Referer and webmail pages are cheap to recognise; the User-Agent set is a regex scan, so it runs
    // last and only for URLs that carry a token.
    const bool plain_context = !r.has_referer || (!r.first_party.empty() && !webmail.match(r.first_party).empty());
    if (!plain_context && !mail_agents) return false;
    if (!detail::carries_token(r.path_and_query, doc.email.min_token_length)) return false;
    if (!plain_context && !mail_agents->Match(re2::StringPiece(r.user_agent.data(), r.user_agent.size()), nullptr))
      return false;
    return !is_first_party();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

namespace {

// The reason codes a request decision can carry (decision.hpp); an example may name only these.
constexpr std::array<std::string_view, 12> request_reasons{reason::no_rule,
                                                           reason::allow_listed,
                                                           reason::exempt,
                                                           reason::exempt_first_party_audience,
                                                           reason::purpose_granted,
                                                           reason::purpose_not_granted,
                                                           reason::consent_missing,
                                                           reason::consent_malformed,
                                                           reason::consent_expired,
                                                           reason::gpc_refused,
                                                           reason::first_party_navigation,
                                                           reason::email_pixel_heuristic};

// Decides every purpose example (PurposeExample) and reports each one that does not come out as written.
void run_examples(const Engine& engine, const Document& doc, const ConsentConfig& consent,
                  std::vector<Diagnostic>& diags) {
  for (std::size_t p = 0; p < doc.purposes.size() && p < max_purposes; ++p) {
    const PurposeDef& purpose = doc.purposes[p];
    for (std::size_t k = 0; k < purpose.examples.size(); ++k) {
      const PurposeExample& x = purpose.examples[k];
      const std::string key_path = "purposes." + purpose.id + ".examples[" + std::to_string(k) + "]";
      const auto fail = [&](std::string message) { diags.push_back({x.where, key_path, std::move(message)}); };
      const auto url = parse_http_url(x.url);
      if (!url) {
        fail(quote(x.url) + " is not an http(s) URL");
        continue;
      }
      std::string site;
      if (!x.site.empty()) {
        const auto site_host = normalise_host(x.site);
        if (!site_host) {
          fail("site " + quote(x.site) + " is not a host name");
          continue;
        }
        site = std::string(registrable_domain(*site_host));
      }
      if (!x.reason.empty() &&
          std::find(request_reasons.begin(), request_reasons.end(), x.reason) == request_reasons.end()) {
        fail("unknown reason " + quote(x.reason));
        continue;
      }
      std::string cookie_header;
      ConsentInputs inputs;
      if (x.consent) {
        if (consent.cookie_names.empty()) {
          fail("has a consent value but the policy names no eu-consent cookie");
          continue;
        }
        cookie_header = consent.cookie_names.front() + "=" + *x.consent;
        // A dated choice is read as made just now: an example must not expire with the calendar.
        inputs.now = parse_eu_consent(*x.consent).timestamp.value_or(0);
      }
      inputs.cookie_header = cookie_header;
      inputs.sec_gpc = x.gpc ? "1" : "";
      Request r;
      r.method = "GET";
      r.host = url->host;
      r.path_and_query = url->path_and_query;
      r.first_party = site;
      r.has_referer = !site.empty();
      r.consent = engine.read_consent(inputs);
      const Decision d = engine.decide(r);
      const bool verdict_ok = d.verdict == x.expect;
      const bool reason_ok = x.reason.empty() || d.reason == x.reason;
      const bool purpose_ok = d.purpose == no_purpose || d.purpose == static_cast<PurposeIndex>(p);
      if (verdict_ok && reason_ok && purpose_ok) continue;
      std::string expected(to_string(x.expect));
      if (!x.reason.empty()) expected += " (" + x.reason + ")";
      std::string got = std::string(to_string(d.verdict)) + " (" + std::string(d.reason);
      if (!d.rule_id.empty()) got += ", rule " + std::string(d.rule_id);
      if (d.purpose != no_purpose) got += ", purpose " + quote(engine.purpose_id(d.purpose));
      got += ")";
      const std::string consent_text = x.consent ? "consent " + quote(*x.consent) : "no consent";
      fail("expected " + expected + " for " + quote(x.url) + " with " + consent_text + (x.gpc ? " and Sec-GPC" : "") +
           (site.empty() ? "" : " on site " + quote(site)) + ", got " + got);
    }
  }
}

}  // namespace

BuildResult Engine::build(const Document& doc) {
  BuildResult result;
  auto& diags = result.diagnostics;
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.doc = doc;

  // Purposes: numbered by position, so a consent state is one 64-bit mask.
  std::unordered_map<std::string, std::size_t> key_owner;  // id or alias -> purpose position
  for (std::size_t i = 0; i < doc.purposes.size(); ++i) {
    const PurposeDef& p = doc.purposes[i];
    const std::string key_path = "purposes." + p.id;
    if (i == max_purposes) {
      diags.push_back({p.where, key_path,
                       "too many purposes (" + std::to_string(doc.purposes.size()) + ", limit " +
                           std::to_string(max_purposes) + ")"});
    }
    if (!is_purpose_id(p.id))
      diags.push_back({p.where, key_path, quote(p.id) + " is not a purpose id (use a-z, 0-9 and '-')"});
    if (auto [it, inserted] = key_owner.emplace(p.id, i); !inserted) {
      const PurposeDef& first = doc.purposes[it->second];
      if (first.id == p.id)
        diags.push_back(
            {p.where, key_path,
             "duplicate purpose " + quote(p.id) + " (first defined at " + location_text(first.where) + ")"});
      else
        diags.push_back(
            {p.where, key_path, "purpose id " + quote(p.id) + " is already an alias of purpose " + quote(first.id)});
    }
    for (std::size_t a = 0; a < p.aliases.size(); ++a) {
      const std::string& alias = p.aliases[a];
      const std::string alias_path = key_path + ".aliases[" + std::to_string(a) + "]";
      if (alias.empty()) {
        diags.push_back({p.where, alias_path, "empty alias"});
        continue;
      }
      if (auto [it, inserted] = key_owner.emplace(alias, i); !inserted && it->second != i)
        diags.push_back(
            {p.where, alias_path,
             "alias " + quote(alias) + " is already used by purpose " + quote(doc.purposes[it->second].id)});
    }
    if (i < max_purposes) {
      m.purposes.push_back({p.id, p.label, p.exemption});
      if (p.exemption == Exemption::always) m.exempt_always.insert(static_cast<PurposeIndex>(i));
      if (p.exemption == Exemption::first_party_audience) m.audience_purposes.insert(static_cast<PurposeIndex>(i));
    }
  }
  for (const auto& [key, owner] : key_owner)
    if (owner < max_purposes) m.keys.emplace_back(key, static_cast<PurposeIndex>(owner));
  std::sort(m.keys.begin(), m.keys.end());

  const auto resolve = [&m](std::string_view key) -> PurposeIndex {
    auto it = std::lower_bound(m.keys.begin(), m.keys.end(), key,
                               [](const auto& kv, std::string_view k) { return kv.first < k; });
    return it != m.keys.end() && it->first == key ? it->second : no_purpose;
  };
  const auto unknown_purpose = [&m](const std::string& id) {
    std::string message = "unknown purpose " + quote(id);
    std::string_view best;
    std::size_t best_distance = 3;  // suggest only close spellings
    for (const auto& [key, index] : m.keys) {
      const std::size_t d = edit_distance(id, key);
      if (d < best_distance) {
        best_distance = d;
        best = key;
      }
    }
    if (!best.empty()) message += "; did you mean " + quote(best) + "?";
    return message;
  };

  // Trackers. Key paths count per file, as the person reading the message sees the file.
  std::unordered_map<std::string, std::size_t> per_file_index;
  std::unordered_map<std::string, std::size_t> tracker_ids;
  for (std::size_t t = 0; t < doc.trackers.size(); ++t) {
    const TrackerRule& rule = doc.trackers[t];
    const std::string base = "trackers[" + std::to_string(per_file_index[rule.where.file]++) + "]";
    if (rule.id.empty()) {
      diags.push_back({rule.where, base + ".id", "tracker without an id"});
    } else if (auto [it, inserted] = tracker_ids.emplace(rule.id, t); !inserted) {
      diags.push_back({rule.where, base + ".id",
                       "duplicate tracker id " + quote(rule.id) + " (first defined at " +
                           location_text(doc.trackers[it->second].where) + ")"});
    }
    const PurposeIndex purpose = resolve(rule.purpose.value);
    if (purpose == no_purpose)
      diags.push_back({rule.purpose.where, base + ".purpose", unknown_purpose(rule.purpose.value)});
    if (rule.domains.empty() && rule.cookies.empty() && rule.urls.empty())
      diags.push_back({rule.where, base, "tracker " + quote(rule.id) + " has no domains, cookies or urls"});

    const auto add_entry = [&](PatternKind kind, const char* list, std::size_t i, std::string pattern) {
      m.entries.push_back({rule.id + "/" + list + "[" + std::to_string(i) + "]", purpose, rule.first_party_only, kind,
                           std::move(pattern)});
      return static_cast<std::uint32_t>(m.entries.size() - 1);
    };
    for (std::size_t i = 0; i < rule.domains.size(); ++i) {
      const Located& d = rule.domains[i];
      if (auto error = domain_pattern_error(d.value)) {
        diags.push_back({d.where, base + ".domains[" + std::to_string(i) + "]",
                         quote(d.value) + " is not a domain pattern (" + *error + ")"});
        continue;
      }
      const std::uint32_t entry = add_entry(PatternKind::domain, "domains", i, canonical_domain_pattern(d.value));
      (void)m.domains.add(d.value, domain_value(entry, purpose));
    }
    for (std::size_t i = 0; i < rule.cookies.size(); ++i) {
      const Located& c = rule.cookies[i];
      if (auto error = cookie_pattern_error(c.value)) {
        diags.push_back({c.where, base + ".cookies[" + std::to_string(i) + "]",
                         quote(c.value) + " is not a cookie-name pattern (" + *error + ")"});
        continue;
      }
      (void)m.cookies.add(c.value, add_entry(PatternKind::cookie, "cookies", i, c.value));
    }
    for (std::size_t i = 0; i < rule.urls.size(); ++i) {
      const Located& u = rule.urls[i];
      const auto entry = static_cast<std::uint32_t>(m.entries.size());
      if (auto error = m.urls.add(u.value, entry)) {
        diags.push_back({u.where, base + ".urls[" + std::to_string(i) + "]",
                         "URL pattern " + quote(u.value) + " of tracker " + quote(rule.id) + " is " + *error});
        continue;
      }
      add_entry(PatternKind::url, "urls", i, u.value);
    }
  }
  if (m.entries.size() > max_pattern_entries)
    diags.push_back(unlocated("trackers", "too many domain, cookie and URL patterns (" +
                                              std::to_string(m.entries.size()) + ", limit " +
                                              std::to_string(max_pattern_entries) + ")"));
  m.hot.reserve(m.entries.size());
  m.entry_purpose.reserve(m.entries.size());
  for (const Entry& e : m.entries) {
    m.hot.push_back({e.rule_id, e.purpose, e.first_party_only});
    m.entry_purpose.push_back(e.purpose);
  }
  m.domains.compile();
  if (auto error = m.urls.compile()) diags.push_back(unlocated("trackers", *error));

  // Operator allow-list.
  per_file_index.clear();
  for (const Located& d : doc.allow_domains) {
    const std::string key_path = "allow_domains[" + std::to_string(per_file_index[d.where.file]++) + "]";
    if (auto error = domain_pattern_error(d.value)) {
      diags.push_back({d.where, key_path, quote(d.value) + " is not a domain pattern (" + *error + ")"});
      continue;
    }
    m.allow_rule_ids.push_back(key_path);
    (void)m.allow.add(d.value, static_cast<std::uint32_t>(m.allow_rule_ids.size() - 1));
  }
  m.allow.compile();

  // Caps.
  if (doc.caps.audience_max_age_seconds <= 0)
    diags.push_back(unlocated("caps.audience_max_age_seconds",
                              "must be positive (got " + std::to_string(doc.caps.audience_max_age_seconds) + ")"));
  if (doc.caps.consent_max_age_seconds <= 0)
    diags.push_back(unlocated("caps.consent_max_age_seconds",
                              "must be positive (got " + std::to_string(doc.caps.consent_max_age_seconds) + ")"));

  // Email heuristics.
  const EmailHeuristics& email = doc.email;
  if (email.enabled && email.min_token_length < min_email_token_length)
    diags.push_back(unlocated("email.min_token_length", "must be at least " + std::to_string(min_email_token_length) +
                                                            " (got " + std::to_string(email.min_token_length) + ")"));
  for (std::size_t i = 0; i < email.webmail_origins.size(); ++i) {
    const Located& o = email.webmail_origins[i];
    if (auto error = domain_pattern_error(o.value)) {
      diags.push_back({o.where, "email.webmail_origins[" + std::to_string(i) + "]",
                       quote(o.value) + " is not a domain pattern (" + *error + ")"});
      continue;
    }
    // The first party is a registrable domain, so "mail.example.com" is recognised as "example.com" too.
    std::string canonical = canonical_domain_pattern(o.value);
    if (canonical.starts_with("*.")) canonical.erase(0, 2);
    (void)m.webmail.add(canonical, 0);
    const std::string_view site = registrable_domain(canonical);
    if (site != canonical) (void)m.webmail.add(site, 0);
  }
  m.webmail.compile();
  if (!email.mail_user_agents.empty()) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(false);  // "thunderbird" and "Thunderbird" are the same client
    options.set_max_mem(max_url_set_memory_bytes);
    m.mail_agents = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    bool all_ok = true;
    for (std::size_t i = 0; i < email.mail_user_agents.size(); ++i) {
      const Located& a = email.mail_user_agents[i];
      const RE2 alone(a.value, options);
      std::string error;
      if (!alone.ok() || alone.ProgramSize() > max_url_pattern_program_size ||
          m.mail_agents->Add(a.value, &error) < 0) {
        const std::string why = !alone.ok() ? "not a valid RE2 pattern (" + alone.error() + ")"
                                : alone.ProgramSize() > max_url_pattern_program_size
                                    ? "too complex (RE2 program size " + std::to_string(alone.ProgramSize()) +
                                          ", limit " + std::to_string(max_url_pattern_program_size) + ")"
                                    : "not a valid RE2 pattern (" + error + ")";
        diags.push_back({a.where, "email.mail_user_agents[" + std::to_string(i) + "]",
                         "User-Agent pattern " + quote(a.value) + " is " + why});
        all_ok = false;
      }
    }
    if (all_ok && !m.mail_agents->Compile())
      diags.push_back(unlocated("email.mail_user_agents", "the User-Agent patterns exceed the RE2 memory budget"));
  }
  if (email.enabled) m.email_purpose = resolve(email_purpose_id);

  // Consent signals; compile_consent reports its own problems.
  m.consent = compile_consent(doc, diags);
  for (const std::string& n : doc.consent.cookie_names) m.consent_cookie_names.push_back(n);
  for (const std::string& n : doc.consent.tcf_cookie_names) m.consent_cookie_names.push_back(n);
  for (const CmpSource& s : doc.consent.cmp) m.consent_cookie_names.push_back(s.cookie);

  if (!diags.empty()) return result;

  m.hash = policy_hash_of(doc);
  m.summary.purposes = m.purposes.size();
  m.summary.trackers = doc.trackers.size();
  m.summary.domains = m.domains.size();
  m.summary.cookie_patterns = m.cookies.size();
  m.summary.url_patterns = m.urls.size();
  m.tracker_sources.reserve(doc.trackers.size());
  for (const TrackerRule& t : doc.trackers) m.tracker_sources.emplace_back(t.id, t.source);
  std::sort(m.tracker_sources.begin(), m.tracker_sources.end());
  const ConsentConfig& consent = m.consent;
  auto engine = std::shared_ptr<const Engine>(new Engine(std::move(impl)));
  run_examples(*engine, doc, consent, diags);
  if (diags.empty()) result.engine = std::move(engine);
  return result;
}

ConsentState Engine::read_consent(const ConsentInputs& in) const noexcept {
  return policy::read_consent(impl_->consent, in);
}

Decision Engine::decide(const Request& r) const noexcept {
  const Impl& m = *impl_;
  if (const auto allowed = m.allow.match(r.host); !allowed.empty())
    return {Verdict::allow, no_purpose, Surrogate::none, m.allow_rule_ids[allowed.front()], reason::allow_listed};

  // is_third_party consults the Public Suffix List: only when some rule needs it.
  std::optional<bool> first_party_cache;
  const auto first_party = [&] {
    if (!first_party_cache) first_party_cache = is_first_party(r);
    return *first_party_cache;
  };

  bool matched = false;
  Outcome best = Outcome::exempt;
  std::uint32_t best_entry = 0;
  bool refused_by_url = false;
  const auto consider = [&](std::uint32_t e, PurposeIndex p, bool from_url) {
    const Outcome o = m.judge(p, m.audience_purposes.contains(p) && first_party(), r.consent);
    if (o == Outcome::refused && from_url) refused_by_url = true;
    if (!matched || o > best) {
      best = o;
      best_entry = e;
    }
    matched = true;
  };
  // At 100k domains the host table, its records and `hot` are far larger than the caches: the slots are
  // read first, and the record and rule id they point at load while the URL patterns run (issue 2).
  DomainMatcher::Lookup lookup = m.domains.start(r.host);
  if (const auto hint = m.domains.peek(lookup); hint && domain_entry(*hint) < m.hot.size())
    __builtin_prefetch(&m.hot[domain_entry(*hint)]);
  // One pass of the URL set, asked at once which patterns match: `hits` stays unallocated unless one does
  // (the rare path, where RE2 allocates anyway). Out of memory there terminates (noexcept), which blocks
  // nothing but leaks nothing either.
  std::vector<std::uint32_t> hits;
  m.urls.match(r.host, r.path_and_query, hits);
  for (std::uint32_t v : m.domains.finish(lookup)) consider(domain_entry(v), domain_purpose(v), false);
  for (std::uint32_t e : hits) consider(e, m.entry_purpose[e], true);

  if (!matched) {
    if (m.is_email_pixel(r, first_party))
      return {Verdict::block, m.email_purpose, Surrogate::gif, email_rule_id, reason::email_pixel_heuristic};
    return {};
  }

  const HotEntry& winner = m.hot[best_entry];
  Decision d;
  d.purpose = winner.purpose;
  d.rule_id = winner.rule_id;
  switch (best) {
    case Outcome::exempt:
      d.reason = reason::exempt;
      return d;
    case Outcome::exempt_audience:
      d.reason = reason::exempt_first_party_audience;
      return d;
    case Outcome::granted:
      d.reason = reason::purpose_granted;
      return d;
    case Outcome::refused:
      break;
  }
  if (r.is_navigation || (!refused_by_url && first_party())) {
    d.verdict = Verdict::strip_cookies;
    d.reason = reason::first_party_navigation;
    return d;
  }
  d.verdict = Verdict::block;
  d.surrogate = surrogate_for(r);
  d.reason = m.refusal_reason(winner.purpose, r.consent);
  return d;
}

CookieHeaderResult Engine::filter_cookie_header(const Request& r, std::string_view cookie_header) const {
  const Impl& m = *impl_;
  CookieHeaderResult result;
  if (cookie_header.empty() || !m.allow.match(r.host).empty()) return result;
  const bool first_party = is_first_party(r);
  const Impl::HostJudgement host = m.judge_host(r.host, first_party, r.consent);
  const bool host_blocked = host.matched && host.outcome == Outcome::refused && !first_party;

  const std::vector<CookiePair> pairs = parse_cookie_header(cookie_header);
  std::vector<bool> removed(pairs.size(), false);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const CookiePair& pair = pairs[i];
    const Impl::CookieJudgement c = m.judge_cookie(pair.name, first_party, r.consent);
    if (c.matched && c.outcome == Outcome::refused) {
      const HotEntry& e = m.hot[c.entry];
      result.removed.push_back({std::string(pair.name), e.purpose, e.rule_id, m.refusal_reason(e.purpose, r.consent)});
    } else if (host_blocked && !(c.matched && c.outcome == Outcome::exempt)) {
      const HotEntry& e = m.hot[host.entry];
      result.removed.push_back({std::string(pair.name), e.purpose, e.rule_id, reason::cookie_of_blocked_host});
    } else {
      continue;
    }
    removed[i] = true;
  }
  // At the pair limit the parser ignored the rest of the header: rewriting drops those unjudged pairs.
  if (result.removed.empty() && pairs.size() < max_cookie_pairs) return result;
  result.changed = true;
  result.header.reserve(cookie_header.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (removed[i]) continue;
    if (!result.header.empty()) result.header += "; ";
    result.header += detail::pair_bytes(pairs[i]);
  }
  return result;
}

SetCookieResult Engine::filter_set_cookie(const Request& r, std::string_view set_cookie_value, std::int64_t now) const {
  const Impl& m = *impl_;
  SetCookieResult result;
  const std::optional<SetCookie> cookie = parse_set_cookie(set_cookie_value);
  if (!cookie) {
    result.action = SetCookieAction::drop;  // fail closed: a browser might still make sense of it
    result.reason = reason::set_cookie_invalid;
    return result;
  }
  result.name = std::string(cookie->name);
  if (!m.allow.match(r.host).empty()) {
    result.reason = reason::allow_listed;
    return result;
  }
  const bool first_party = is_first_party(r);
  const Impl::CookieJudgement c = m.judge_cookie(cookie->name, first_party, r.consent);
  if (c.matched) {
    const HotEntry& e = m.hot[c.entry];
    result.purpose = e.purpose;
    result.rule_id = e.rule_id;
  }
  if (c.matched && c.outcome == Outcome::refused) {
    result.action = SetCookieAction::drop;
    result.reason = m.refusal_reason(result.purpose, r.consent);
    return result;
  }
  if (!first_party && !(c.matched && c.outcome == Outcome::exempt)) {
    const Impl::HostJudgement host = m.judge_host(r.host, first_party, r.consent);
    if (host.matched && host.outcome == Outcome::refused) {
      const HotEntry& e = m.hot[host.entry];
      result.action = SetCookieAction::drop;
      result.purpose = e.purpose;
      result.rule_id = e.rule_id;
      result.reason = reason::cookie_of_blocked_host;
      return result;
    }
  }
  if (c.matched) {
    switch (c.outcome) {
      case Outcome::exempt:
        result.reason = reason::exempt;
        break;
      case Outcome::exempt_audience:
        result.reason = reason::exempt_first_party_audience;
        break;
      case Outcome::granted:
        result.reason = reason::purpose_granted;
        break;
      case Outcome::refused:
        break;
    }
  }
  std::optional<std::int64_t> cap;
  if (m.is_consent_cookie(cookie->name))
    cap = m.doc.caps.consent_max_age_seconds;
  else if (c.matched && c.outcome == Outcome::exempt_audience)
    cap = m.doc.caps.audience_max_age_seconds;
  if (cap) {
    if (auto capped = cap_set_cookie(set_cookie_value, *cap, now)) {
      result.action = SetCookieAction::cap;
      result.header = std::move(*capped);
      result.reason = reason::lifetime_capped;
    }
  }
  return result;
}

std::size_t Engine::purpose_count() const noexcept { return impl_->purposes.size(); }

PurposeIndex Engine::find_purpose(std::string_view id_or_alias) const noexcept {
  const auto& keys = impl_->keys;
  auto it = std::lower_bound(keys.begin(), keys.end(), id_or_alias,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  return it != keys.end() && it->first == id_or_alias ? it->second : no_purpose;
}

std::string_view Engine::purpose_id(PurposeIndex p) const noexcept {
  return p < impl_->purposes.size() ? std::string_view(impl_->purposes[p].id) : std::string_view{};
}

std::string_view Engine::purpose_label(PurposeIndex p) const noexcept {
  return p < impl_->purposes.size() ? std::string_view(impl_->purposes[p].label) : std::string_view{};
}

Exemption Engine::purpose_exemption(PurposeIndex p) const noexcept {
  return p < impl_->purposes.size() ? impl_->purposes[p].exemption : Exemption::none;
}

PurposeSet Engine::exempt_purposes() const noexcept { return impl_->exempt_always; }

std::vector<std::string_view> Engine::domains_for(PurposeSet purposes) const {
  std::vector<std::string_view> out;
  std::unordered_set<std::string_view> seen;
  for (const Entry& e : impl_->entries) {
    if (e.kind != PatternKind::domain || !purposes.contains(e.purpose)) continue;
    if (seen.insert(e.pattern).second) out.push_back(e.pattern);
  }
  return out;
}

std::string_view Engine::rule_source(std::string_view rule_id) const noexcept {
  const std::string_view tracker = rule_id.substr(0, rule_id.find('/'));
  const auto& sources = impl_->tracker_sources;
  const auto it = std::lower_bound(sources.begin(), sources.end(), tracker,
                                   [](const auto& entry, std::string_view id) { return entry.first < id; });
  return it != sources.end() && it->first == tracker ? std::string_view(it->second) : std::string_view{};
}

std::string_view Engine::policy_hash() const noexcept { return impl_->hash; }
EngineSummary Engine::summary() const noexcept { return impl_->summary; }
const Document& Engine::document() const noexcept { return impl_->doc; }

}  // namespace consent::policy
