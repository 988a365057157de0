#include "policy/consent.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "policy/cookie_header.hpp"
#include "policy/eu_consent.hpp"
#include "policy/tcf.hpp"

namespace consent::policy {
namespace {

constexpr int max_tcf_purpose = 11;
constexpr int max_tcf_special_feature = 2;

using KeyIndex = std::vector<std::pair<std::string, PurposeIndex>>;

PurposeIndex lookup(const KeyIndex& keys, std::string_view key) noexcept {
  const auto it = std::lower_bound(keys.begin(), keys.end(), key,
                                   [](const auto& entry, std::string_view k) { return entry.first < k; });
  if (it == keys.end() || it->first != key) return no_purpose;
  return it->second;
}

// Built member by member: GCC 12 warns -Wmaybe-uninitialized on a braced `{{}, ...}` Diagnostic at -O2.
Diagnostic unlocated(std::string key_path, std::string message) {
  Diagnostic d;
  d.key_path = std::move(key_path);
  d.message = std::move(message);
  return d;
}

std::string unknown_purpose(std::string_view id) { return "unknown purpose \"" + std::string(id) + "\""; }

using Reading = ConsentReading;

Reading reading(ConsentSource source, std::string_view cookie) noexcept {
  Reading r;
  r.source = source;
  r.cookie = cookie;
  r.status = ConsentStatus::malformed;
  return r;
}

// A purpose is granted when at least one of its keys says yes and none says no: two keys of one purpose
// that disagree (an id and its alias, two CMP categories mapped to it) are read the restrictive way.
struct Tally {
  PurposeSet yes;
  PurposeSet no;
  void add(PurposeIndex p, bool chosen) noexcept {
    if (p == no_purpose) return;
    if (chosen) {
      yes.insert(p);
    } else {
      no.insert(p);
    }
  }
  [[nodiscard]] PurposeSet granted() const noexcept { return yes & ~no; }
};

Reading finish(const ConsentConfig& config, Reading r, std::int64_t now) noexcept {
  if (r.status != ConsentStatus::valid) {
    r.granted = PurposeSet{};
    return r;
  }
  if (r.timestamp) {
    if (*r.timestamp > now + clearly_newer_seconds) {
      r.status = ConsentStatus::malformed;
      r.reason = "timestamp in the future";
    } else if (config.lifetime_seconds > 0 && now - *r.timestamp > config.lifetime_seconds) {
      r.status = ConsentStatus::expired;
      r.reason = "older than the consent lifetime";
    }
  }
  r.granted = r.status == ConsentStatus::valid ? r.granted & config.needs_consent : PurposeSet{};
  return r;
}

Reading read_eu_consent(const ConsentConfig& config, std::string_view cookie, std::string_view raw, std::int64_t now) {
  Reading r = reading(ConsentSource::eu_consent, cookie);
  const EuConsent parsed = parse_eu_consent(raw);
  if (!parsed.ok()) {
    r.reason = parsed.reason;
    return r;
  }
  Tally tally;
  for (const auto& [key, chosen] : parsed.purposes) tally.add(lookup(config.keys, key), chosen);
  r.status = ConsentStatus::valid;
  r.granted = tally.granted();
  r.timestamp = parsed.timestamp;
  return finish(config, r, now);
}

Reading read_tcf(const ConsentConfig& config, std::string_view cookie, std::string_view raw, std::int64_t now) {
  Reading r = reading(ConsentSource::tcf, cookie);
  const TcfResult decoded = decode_tc_string(raw);
  if (!decoded.ok()) {
    r.reason = decoded.reason;
    return r;
  }
  // TCF v2.2 §"TC String validity": vendors must treat pre-2.2 and global-scope strings as invalid.
  if (!is_valid_under_tcf_2_2(decoded.tc)) {
    r.reason = "not valid under TCF v2.2 (policy version below 4, or not service-specific)";
    return r;
  }
  const TcString& tc = decoded.tc;
  // PurposeOneTreatment = 1: Purpose 1 (storage) was not disclosed to the visitor, so its bit records no
  // choice. ePrivacy art. 5(3) needs that choice for any storage: read it as refused.
  const std::uint32_t purposes = tc.purpose_one_treatment ? tc.purposes_consent & ~1U : tc.purposes_consent;
  for (const auto& rule : config.tcf) {
    if ((purposes & rule.purposes_mask) == rule.purposes_mask &&
        (tc.special_feature_opt_ins & rule.special_features_mask) == rule.special_features_mask) {
      r.granted.insert(rule.purpose);
    }
  }
  r.status = ConsentStatus::valid;
  r.timestamp = tc.last_updated_deciseconds / 10;
  return finish(config, r, now);
}

Reading read_cmp(const ConsentConfig& config, const ConsentConfig::Cmp& cmp, std::string_view raw, std::int64_t now) {
  Reading r = reading(ConsentSource::cmp, cmp.cookie);
  const CmpConsent parsed = parse_cmp_consent(cmp.format_id, raw);
  r.reason = parsed.reason;
  if (parsed.status == CmpStatus::no_choice) {
    r.status = ConsentStatus::missing;
    return r;
  }
  if (!parsed.ok()) return r;
  Tally tally;
  for (const auto& [category, purpose] : cmp.categories) {
    if (const auto chosen = parsed.find(category)) tally.add(purpose, *chosen);
  }
  r.status = ConsentStatus::valid;
  r.granted = tally.granted();
  r.timestamp = parsed.timestamp;
  return finish(config, r, now);
}

// Issue 5: "the most restrictive wins unless one is clearly newer".
Reading combine(const std::vector<Reading>& readings) noexcept {
  const Reading* newest = nullptr;
  for (const auto& r : readings) {
    if (r.status == ConsentStatus::valid && r.timestamp && (newest == nullptr || *r.timestamp > *newest->timestamp)) {
      newest = &r;
    }
  }
  if (newest != nullptr) {
    const bool clearly = std::all_of(readings.begin(), readings.end(), [newest](const Reading& r) {
      return &r == newest || (r.timestamp && *newest->timestamp - *r.timestamp > clearly_newer_seconds);
    });
    if (clearly) return *newest;
  }
  // The intersection; reported as its most restrictive member (the first invalid one, if any).
  Reading out = readings.front();
  PurposeSet granted = PurposeSet::all();
  for (const auto& r : readings) {
    granted = granted & r.granted;
    const bool more_restrictive = out.status == ConsentStatus::valid &&
                                  (r.status != ConsentStatus::valid || r.granted.size() < out.granted.size());
    if (more_restrictive) out = r;
  }
  out.granted = granted;
  return out;
}

// `trace`, when given, receives every reading (explain_consent); the request path passes nullptr.
Reading read_signals(const ConsentConfig& config, const ConsentInputs& in, std::vector<Reading>* trace) {
  // One pass over the header for every signal name (signal_names): a search per name cost ~3 us on a
  // typical header, mostly in std::string_view::find, which libstdc++ runs byte by byte.
  std::array<std::string_view, max_found_cookie_names> values;
  const std::uint64_t present = find_cookies(in.cookie_header, config.signal_names, values);
  std::size_t index = 0;
  const auto find_signal = [&](std::string_view& v) {
    const std::size_t i = index++;
    if (i >= max_found_cookie_names || (present >> i & 1U) == 0) return false;
    v = values[i];
    return true;
  };
  if (present == 0) return Reading{};

  // eu-consent and its aliases: the first present decides; two aliases present with different values are
  // an ambiguity, read as malformed.
  std::string_view eu_value;
  std::string_view eu_name;
  bool eu_found = false;
  for (const auto& name : config.cookie_names) {
    std::string_view v;
    if (!find_signal(v)) continue;
    if (!eu_found) {
      eu_value = v;
      eu_name = name;
      eu_found = true;
    } else if (v != eu_value) {
      Reading r = reading(ConsentSource::eu_consent, name);
      r.reason = "two eu-consent cookies with different values";
      if (trace != nullptr) trace->push_back(r);
      return r;
    }
  }
  index = config.cookie_names.size();
  if (eu_found) {
    Reading r = read_eu_consent(config, eu_name, eu_value, in.now);
    if (trace != nullptr) trace->push_back(r);
    return r;
  }

  // Constructed empty: no allocation unless some consent cookie is present.
  std::vector<Reading> readings;
  bool saw_no_choice = false;
  for (const auto& name : config.tcf_cookie_names) {
    std::string_view v;
    // An empty TC cookie is what several CMPs write when TCF is not in use: no signal rather than a
    // malformed one, so that it does not empty the intersection with the CMP's own cookie.
    if (find_signal(v) && !v.empty()) readings.push_back(read_tcf(config, name, v, in.now));
  }
  for (const auto& cmp : config.cmp) {
    std::string_view v;
    if (!find_signal(v)) continue;
    Reading r = read_cmp(config, cmp, v, in.now);
    if (r.status == ConsentStatus::missing) {
      saw_no_choice = true;
      if (trace != nullptr) trace->push_back(r);
      continue;
    }
    readings.push_back(r);
  }
  if (trace != nullptr) trace->insert(trace->end(), readings.begin(), readings.end());
  if (readings.empty()) {
    Reading r;
    r.source = saw_no_choice ? ConsentSource::cmp : ConsentSource::none;
    return r;
  }
  return readings.size() == 1 ? readings.front() : combine(readings);
}

ConsentState finish_state(const ConsentConfig& config, const ConsentInputs& in, const Reading* r) noexcept {
  ConsentState state;
  if (r != nullptr) {
    state.status = r->status;
    state.source = r->source;
    state.granted = r->status == ConsentStatus::valid ? r->granted : PurposeSet{};
    state.timestamp = r->timestamp.value_or(0);
  }
  if (in.sec_gpc == "1") {
    state.gpc = true;
    state.granted = state.granted & ~config.gpc_refuses;
  }
  state.granted = state.granted & ~config.override_refuses;
  return state;
}

}  // namespace

ConsentConfig compile_consent(const Document& doc, std::vector<Diagnostic>& diagnostics) {
  ConsentConfig config;
  const ConsentSettings& s = doc.consent;
  config.lifetime_seconds = s.lifetime_seconds;
  if (s.lifetime_seconds < 0) {
    diagnostics.push_back(unlocated("consent.lifetime", "must not be negative"));
    config.lifetime_seconds = 0;
  }
  // An empty name would match a nameless pair ("Cookie: abc"), so it is reported and left out.
  const auto names = [&diagnostics](const std::vector<std::string>& in, const char* key) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i].empty()) {
        diagnostics.push_back(unlocated(std::string(key) + "[" + std::to_string(i) + "]", "empty cookie name"));
      } else {
        out.push_back(in[i]);
      }
    }
    return out;
  };
  config.cookie_names = names(s.cookie_names, "consent.cookie_names");
  config.tcf_cookie_names = names(s.tcf_cookie_names, "consent.tcf_cookie_names");

  const std::size_t purposes = std::min(doc.purposes.size(), max_purposes);
  for (std::size_t i = 0; i < purposes; ++i) {
    const PurposeDef& p = doc.purposes[i];
    const auto index = static_cast<PurposeIndex>(i);
    config.keys.emplace_back(p.id, index);
    for (const auto& alias : p.aliases) config.keys.emplace_back(alias, index);
    if (p.exemption != Exemption::always) config.needs_consent.insert(index);
  }
  // Duplicate ids and aliases are reported where purposes are checked; here the first definition wins.
  std::stable_sort(config.keys.begin(), config.keys.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  config.keys.erase(std::unique(config.keys.begin(), config.keys.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; }),
                    config.keys.end());

  for (std::size_t i = 0; i < s.tcf.size(); ++i) {
    const TcfMapping& m = s.tcf[i];
    const std::string path = "consent.tcf[" + std::to_string(i) + "]";
    const PurposeIndex purpose = lookup(config.keys, m.purpose.value);
    if (purpose == no_purpose)
      diagnostics.push_back({m.purpose.where, path + ".purpose", unknown_purpose(m.purpose.value)});
    ConsentConfig::TcfRule rule;
    rule.purpose = purpose;
    for (std::size_t j = 0; j < m.tcf_purposes.size(); ++j) {
      const int n = m.tcf_purposes[j];
      if (n < 1 || n > max_tcf_purpose) {
        diagnostics.push_back(
            {m.where, path + ".tcf_purposes[" + std::to_string(j) + "]",
             "TCF purpose " + std::to_string(n) + " is out of range (1.." + std::to_string(max_tcf_purpose) + ")"});
        continue;
      }
      rule.purposes_mask |= 1U << (n - 1);
    }
    for (std::size_t j = 0; j < m.special_features.size(); ++j) {
      const int n = m.special_features[j];
      if (n < 1 || n > max_tcf_special_feature) {
        diagnostics.push_back({m.where, path + ".special_features[" + std::to_string(j) + "]",
                               "TCF special feature " + std::to_string(n) + " is out of range (1.." +
                                   std::to_string(max_tcf_special_feature) + ")"});
        continue;
      }
      rule.special_features_mask |= 1U << (n - 1);
    }
    if (m.tcf_purposes.empty() && m.special_features.empty()) {
      diagnostics.push_back(
          {m.where, path, "lists no TCF purpose: it would grant \"" + m.purpose.value + "\" without any consent"});
      continue;
    }
    if (purpose == no_purpose) continue;
    // Several mappings for one purpose: all of them must hold, so their requirements add up.
    const auto same =
        std::find_if(config.tcf.begin(), config.tcf.end(), [purpose](const auto& r) { return r.purpose == purpose; });
    if (same == config.tcf.end()) {
      config.tcf.push_back(rule);
    } else {
      same->purposes_mask |= rule.purposes_mask;
      same->special_features_mask |= rule.special_features_mask;
    }
  }

  for (std::size_t i = 0; i < s.gpc_refuses.size(); ++i) {
    const Located& id = s.gpc_refuses[i];
    const PurposeIndex p = lookup(config.keys, id.value);
    if (p == no_purpose) {
      diagnostics.push_back({id.where, "consent.gpc_refuses[" + std::to_string(i) + "]", unknown_purpose(id.value)});
    } else {
      config.gpc_refuses.insert(p);
    }
  }

  for (const auto& [id, allowed] : s.user_override) {
    const PurposeIndex p = lookup(config.keys, id);
    if (p == no_purpose) {
      diagnostics.push_back(unlocated("consent.user_override." + id, unknown_purpose(id)));
    } else if (!allowed) {
      config.override_refuses.insert(p);
    }
  }

  for (std::size_t i = 0; i < s.cmp.size(); ++i) {
    const CmpSource& src = s.cmp[i];
    const std::string path = "consent.cmp[" + std::to_string(i) + "]";
    ConsentConfig::Cmp cmp;
    cmp.cookie = src.cookie;
    cmp.format = src.format;
    bool usable = true;
    if (src.cookie.empty()) {
      diagnostics.push_back({src.where, path + ".cookie", "empty cookie name"});
      usable = false;
    }
    if (const auto f = cmp_format_from_name(src.format)) {
      cmp.format_id = *f;
    } else {
      diagnostics.push_back(
          {src.where, path + ".format",
           "unknown CMP format \"" + src.format + "\" (expected one of " + std::string(cmp_format_names) + ")"});
      usable = false;
    }
    for (const auto& [category, purpose_id] : src.categories) {
      const PurposeIndex p = lookup(config.keys, purpose_id.value);
      if (p == no_purpose) {
        diagnostics.push_back({purpose_id.where, path + ".categories." + category, unknown_purpose(purpose_id.value)});
        continue;
      }
      cmp.categories.emplace_back(category, p);  // std::map order: already sorted by key
    }
    if (usable) config.cmp.push_back(std::move(cmp));
  }

  config.signal_names = config.cookie_names;
  config.signal_names.insert(config.signal_names.end(), config.tcf_cookie_names.begin(), config.tcf_cookie_names.end());
  for (const auto& cmp : config.cmp) config.signal_names.push_back(cmp.cookie);
  if (config.signal_names.size() > max_found_cookie_names)
    diagnostics.push_back(unlocated("consent", "too many consent cookie names (" +
                                                   std::to_string(config.signal_names.size()) +
                                                   " in cookie_names, tcf_cookie_names and cmp; limit " +
                                                   std::to_string(max_found_cookie_names) + ")"));
  return config;
}

ConsentState read_consent(const ConsentConfig& config, const ConsentInputs& in) noexcept {
  try {
    const Reading r = read_signals(config, in, nullptr);
    return finish_state(config, in, &r);
  } catch (...) {
    // Only std::bad_alloc can get here; fail closed.
    return finish_state(config, in, nullptr);
  }
}

ConsentExplanation explain_consent(const ConsentConfig& config, const ConsentInputs& in) {
  ConsentExplanation out;
  const Reading r = read_signals(config, in, &out.readings);
  out.state = finish_state(config, in, &r);
  return out;
}

}  // namespace consent::policy
