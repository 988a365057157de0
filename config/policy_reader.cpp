// Policy files (config/policies/*.yaml): see docs/config.md for the format. Only shape and types are
// checked here; meaning (unknown purposes, patterns, duplicate ids) is Engine::build's job, which is why
// every string that names something keeps its location.
#include <array>

#include "config/readers.hpp"
#include "config/value_parsers.hpp"

namespace consent::config::detail {
namespace {

constexpr std::array<std::string_view, 8> policy_keys{"name",    "version", "purposes", "trackers",
                                                      "consent", "caps",    "email",    "allow_domains"};
constexpr std::array<std::string_view, 5> purpose_keys{"id", "label", "exemption", "aliases", "examples"};
constexpr std::array<std::string_view, 6> example_keys{"url", "site", "consent", "gpc", "expect", "reason"};
constexpr std::array<std::string_view, 3> verdict_names{"allow", "strip_cookies", "block"};
constexpr std::array<std::string_view, 3> exemption_names{"none", "always", "first-party-audience"};
constexpr std::array<std::string_view, 7> tracker_keys{"id",      "purpose", "source",          "domains",
                                                       "cookies", "urls",    "first_party_only"};
constexpr std::array<std::string_view, 7> consent_keys{"cookie_names", "tcf_cookie_names", "lifetime", "tcf",
                                                       "gpc_refuses",  "user_override",    "cmp"};
constexpr std::array<std::string_view, 2> tcf_keys{"purposes", "special_features"};
constexpr std::array<std::string_view, 3> cmp_keys{"cookie", "format", "categories"};
constexpr std::array<std::string_view, 2> caps_keys{"audience_max_age", "consent_max_age"};
constexpr std::array<std::string_view, 4> email_keys{"enabled", "webmail_origins", "mail_user_agents",
                                                     "min_token_length"};

// IAB TCF v2.2 defines purposes 1-11 and special features 1-2 (TCF Policies, Appendix A).
constexpr std::uint64_t tcf_max_purpose = 11;
constexpr std::uint64_t tcf_max_special_feature = 2;

// A cookie name is an RFC 6265 §4.1.1 token.
bool is_cookie_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    if (std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::vector<std::string> read_cookie_names(Reader& r, const Field& f) {
  std::vector<std::string> out;
  auto list = read_list(r, f);
  if (!list) return out;
  for (const auto& e : *list) {
    auto s = read_nonempty_string(r, e);
    if (!s) continue;
    if (!is_cookie_token(*s)) {
      r.error(e.mark, e.path, quote(*s) + " is not a cookie name (RFC 6265 token)");
      continue;
    }
    out.push_back(std::move(*s));
  }
  if (list->empty()) r.error(f.mark, f.path, "must list at least one cookie name");
  return out;
}

// Durations in the policy are lifetimes: whole seconds, and never zero.
std::optional<std::int64_t> read_lifetime_seconds(Reader& r, const Field& f) {
  auto d = read_duration(r, f);
  if (!d) return std::nullopt;
  if (d->count() < 1000) {
    r.error(f.mark, f.path, "must be at least 1s");
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*d).count();
}

std::vector<int> read_numbers(Reader& r, const Field& f, std::uint64_t max) {
  std::vector<int> out;
  if (auto list = read_list(r, f)) {
    for (const auto& e : *list) {
      if (auto n = read_uint(r, e, 1, max)) out.push_back(static_cast<int>(*n));
    }
  }
  return out;
}

// A purpose's worked examples (STYLE.md section 3). Only shape here: Engine::build parses the URL and
// decides each one.
std::vector<policy::PurposeExample> read_examples(Reader& r, const Field& f) {
  std::vector<policy::PurposeExample> out;
  auto list = read_list(r, f);
  if (!list) return out;
  for (const auto& e : *list) {
    MapReader m(r, e, example_keys);
    if (!m.is_map()) continue;
    policy::PurposeExample x;
    x.where = r.location(e.mark);
    const std::size_t errors = r.error_count();
    if (auto v = m.require("url")) {
      if (auto s = read_nonempty_string(r, *v)) x.url = std::move(*s);
    }
    if (auto v = m.get("site")) {
      if (auto s = read_nonempty_string(r, *v)) x.site = std::move(*s);
    }
    if (auto v = m.get("consent")) x.consent = read_string(r, *v);
    if (auto v = m.get("gpc")) {
      if (auto b = read_bool(r, *v)) x.gpc = *b;
    }
    if (auto v = m.require("expect")) {
      if (auto s = read_choice(r, *v, verdict_names)) {
        x.expect = *s == "block"           ? policy::Verdict::block
                   : *s == "strip_cookies" ? policy::Verdict::strip_cookies
                                           : policy::Verdict::allow;
      }
    }
    if (auto v = m.get("reason")) {
      if (auto s = read_nonempty_string(r, *v)) x.reason = std::move(*s);
    }
    if (r.error_count() == errors) out.push_back(std::move(x));
  }
  return out;
}

void read_purposes(Reader& r, const Field& f, std::vector<policy::PurposeDef>& out) {
  auto list = read_list(r, f);
  if (!list) return;
  for (const auto& e : *list) {
    MapReader m(r, e, purpose_keys);
    if (!m.is_map()) continue;
    policy::PurposeDef def;
    def.where = r.location(e.mark);
    const std::size_t errors = r.error_count();
    if (auto v = m.require("id")) {
      if (auto s = read_nonempty_string(r, *v)) def.id = std::move(*s);
    }
    if (auto v = m.require("label")) {
      if (auto s = read_nonempty_string(r, *v)) def.label = std::move(*s);
    }
    if (auto v = m.get("exemption")) {
      if (auto s = read_choice(r, *v, exemption_names)) {
        def.exemption = *s == "always"                 ? policy::Exemption::always
                        : *s == "first-party-audience" ? policy::Exemption::first_party_audience
                                                       : policy::Exemption::none;
      }
    }
    if (auto v = m.get("aliases")) def.aliases = read_string_list(r, *v);
    if (auto v = m.get("examples")) def.examples = read_examples(r, *v);
    if (r.error_count() == errors) out.push_back(std::move(def));
  }
}

void read_trackers(Reader& r, const Field& f, std::vector<policy::TrackerRule>& out) {
  auto list = read_list(r, f);
  if (!list) return;
  for (const auto& e : *list) {
    MapReader m(r, e, tracker_keys);
    if (!m.is_map()) continue;
    policy::TrackerRule rule;
    rule.where = r.location(e.mark);
    const std::size_t errors = r.error_count();
    if (auto v = m.require("id")) {
      if (auto s = read_nonempty_string(r, *v)) rule.id = std::move(*s);
    }
    if (auto v = m.require("purpose")) {
      if (auto s = read_located(r, *v)) rule.purpose = std::move(*s);
    }
    // Attribution (which list the rule comes from), for explanations; not part of the policy hash.
    if (auto v = m.get("source")) {
      if (auto s = read_nonempty_string(r, *v)) rule.source = std::move(*s);
    }
    const auto domains = m.get("domains");
    const auto cookies = m.get("cookies");
    const auto urls = m.get("urls");
    if (domains) rule.domains = read_located_list(r, *domains);
    if (cookies) rule.cookies = read_located_list(r, *cookies);
    if (urls) rule.urls = read_located_list(r, *urls);
    if (auto v = m.get("first_party_only")) {
      if (auto b = read_bool(r, *v)) rule.first_party_only = *b;
    }
    if (!domains && !cookies && !urls) {
      r.error(e.mark, e.path, "a tracker needs at least one of domains, cookies, urls");
    }
    if (r.error_count() == errors) out.push_back(std::move(rule));
  }
}

void read_tcf(Reader& r, const Field& f, std::vector<policy::TcfMapping>& out) {
  MapReader m(r, f, {}, true);
  for (const auto& [key, field] : m.entries()) {
    policy::TcfMapping mapping;
    mapping.purpose = policy::Located{key, r.location(m.key_mark(key))};
    mapping.where = mapping.purpose.where;
    const std::size_t errors = r.error_count();
    if (field.node.IsSequence()) {
      mapping.tcf_purposes = read_numbers(r, field, tcf_max_purpose);
    } else if (field.node.IsMap()) {
      MapReader spec(r, field, tcf_keys);
      if (auto v = spec.require("purposes")) mapping.tcf_purposes = read_numbers(r, *v, tcf_max_purpose);
      if (auto v = spec.get("special_features")) {
        mapping.special_features = read_numbers(r, *v, tcf_max_special_feature);
      }
    } else {
      r.error(field.mark, field.path,
              "expected a list of TCF purposes such as [1, 3, 4] or a map with purposes and special_features, got " +
                  describe(field.node));
      continue;
    }
    if (r.error_count() != errors) continue;
    if (mapping.tcf_purposes.empty()) {
      // An empty conjunction would grant the purpose on any TC string: fail closed.
      r.error(field.mark, field.path, "must list at least one TCF purpose");
      continue;
    }
    out.push_back(std::move(mapping));
  }
}

void read_cmp(Reader& r, const Field& f, std::vector<policy::CmpSource>& out) {
  auto list = read_list(r, f);
  if (!list) return;
  for (const auto& e : *list) {
    MapReader m(r, e, cmp_keys);
    if (!m.is_map()) continue;
    policy::CmpSource cmp;
    cmp.where = r.location(e.mark);
    const std::size_t errors = r.error_count();
    if (auto v = m.require("cookie")) {
      if (auto s = read_nonempty_string(r, *v)) {
        if (is_cookie_token(*s)) {
          cmp.cookie = std::move(*s);
        } else {
          r.error(v->mark, v->path, quote(*s) + " is not a cookie name (RFC 6265 token)");
        }
      }
    }
    if (auto v = m.require("format")) {
      if (auto s = read_nonempty_string(r, *v)) cmp.format = std::move(*s);
    }
    if (auto v = m.require("categories")) {
      MapReader cats(r, *v, {}, true);
      for (const auto& [key, field] : cats.entries()) {
        if (auto s = read_located(r, field)) cmp.categories.emplace(key, std::move(*s));
      }
    }
    if (r.error_count() == errors) out.push_back(std::move(cmp));
  }
}

void read_consent(Reader& r, const Field& f, PolicyPart& part) {
  MapReader m(r, f, consent_keys);
  auto& c = part.doc.consent;
  if (auto v = m.get("cookie_names")) c.cookie_names = read_cookie_names(r, *v);
  if (auto v = m.get("tcf_cookie_names")) c.tcf_cookie_names = read_cookie_names(r, *v);
  if (auto v = m.get("lifetime")) {
    if (auto s = read_lifetime_seconds(r, *v)) c.lifetime_seconds = *s;
  }
  if (auto v = m.get("tcf")) read_tcf(r, *v, c.tcf);
  if (auto v = m.get("gpc_refuses")) c.gpc_refuses = read_located_list(r, *v);
  if (auto v = m.get("user_override")) {
    MapReader o(r, *v, {}, true);
    for (const auto& [key, field] : o.entries()) {
      if (auto b = read_bool(r, field)) {
        c.user_override[key] = *b;
        part.user_override_at.emplace_back(key, r.location(o.key_mark(key)));
      }
    }
  }
  if (auto v = m.get("cmp")) read_cmp(r, *v, c.cmp);
}

void read_caps(Reader& r, const Field& f, policy::CookieCaps& caps) {
  MapReader m(r, f, caps_keys);
  if (auto v = m.get("audience_max_age")) {
    if (auto s = read_lifetime_seconds(r, *v)) caps.audience_max_age_seconds = *s;
  }
  if (auto v = m.get("consent_max_age")) {
    if (auto s = read_lifetime_seconds(r, *v)) caps.consent_max_age_seconds = *s;
  }
}

void read_email(Reader& r, const Field& f, policy::EmailHeuristics& email) {
  MapReader m(r, f, email_keys);
  if (auto v = m.get("enabled")) {
    if (auto b = read_bool(r, *v)) email.enabled = *b;
  }
  if (auto v = m.get("webmail_origins")) email.webmail_origins = read_located_list(r, *v);
  if (auto v = m.get("mail_user_agents")) email.mail_user_agents = read_located_list(r, *v);
  if (auto v = m.get("min_token_length")) {
    // Shorter tokens would flag ordinary image names; longer than a URL limit can never match.
    if (auto n = read_uint(r, *v, 8, 1024)) email.min_token_length = static_cast<std::size_t>(*n);
  }
}

}  // namespace

void read_policy(Reader& r, const YAML::Node& root, PolicyPart& out) {
  MapReader m(r, Field{root, root.Mark(), ""}, policy_keys);
  if (!m.is_map()) return;
  if (auto v = m.get("name")) {
    if (auto s = read_nonempty_string(r, *v)) {
      out.doc.name = std::move(*s);
      out.name_at = r.location(v->mark);
    }
  }
  if (auto v = m.get("version")) {
    if (auto s = read_nonempty_string(r, *v)) out.doc.version = std::move(*s);
  }
  if (auto v = m.get("purposes")) read_purposes(r, *v, out.doc.purposes);
  if (auto v = m.get("trackers")) read_trackers(r, *v, out.doc.trackers);
  if (auto v = m.get("consent")) {
    out.consent_at = r.location(m.key_mark("consent"));
    read_consent(r, *v, out);
  }
  if (auto v = m.get("caps")) {
    out.caps_at = r.location(m.key_mark("caps"));
    read_caps(r, *v, out.doc.caps);
  }
  if (auto v = m.get("email")) {
    out.email_at = r.location(m.key_mark("email"));
    read_email(r, *v, out.doc.email);
  }
  if (auto v = m.get("allow_domains")) out.doc.allow_domains = read_located_list(r, *v);
}

}  // namespace consent::config::detail
