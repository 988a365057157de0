#include "report/analyzer.hpp"

#include <algorithm>
#include <bit>
#include <map>
#include <unordered_map>
#include <utility>

#include "report/line_reader.hpp"

namespace consent::report {

namespace {

constexpr std::string_view other_key = "(other)";

using ojson = nlohmann::ordered_json;

struct Counts {
  std::uint64_t violations = 0;
  std::uint64_t allowed = 0;
  std::uint64_t prevented = 0;
  void add(Outcome o) noexcept {
    switch (o) {
      case Outcome::violation:
        ++violations;
        break;
      case Outcome::allowed:
        ++allowed;
        break;
      case Outcome::prevented:
        ++prevented;
        break;
    }
  }
  [[nodiscard]] ojson to_json() const {
    return ojson{{"violations", violations}, {"allowed", allowed}, {"prevented", prevented}};
  }
};

struct HostStats {
  Counts counts;
  std::uint64_t requests = 0;
  std::uint32_t kinds = 0;  // bit per ViolationKind seen
};

struct PurposeStats {
  Counts counts;
  std::uint64_t requests = 0;
};

// Tracker activity over time in at most `buckets` bars whose width doubles (merging pairs) whenever a
// time falls outside the span: constant memory, any input order.
struct Activity {
  struct Bar {
    std::uint64_t permitted = 0, prevented = 0, violations = 0, allowed = 0;
  };
  std::int64_t width_ms = 1000;
  std::int64_t lo = 0;  // bucket index of bars[0]
  std::vector<Bar> bars;

  static std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
  }
  void widen() {
    const std::int64_t new_lo = floor_div(lo, 2);
    std::vector<Bar> merged;
    for (std::size_t i = 0; i < bars.size(); ++i) {
      const auto idx = static_cast<std::size_t>(floor_div(lo + static_cast<std::int64_t>(i), 2) - new_lo);
      if (merged.size() <= idx) merged.resize(idx + 1);
      auto& m = merged[idx];
      m.permitted += bars[i].permitted;
      m.prevented += bars[i].prevented;
      m.violations += bars[i].violations;
      m.allowed += bars[i].allowed;
    }
    bars = std::move(merged);
    lo = new_lo;
    width_ms *= 2;
  }
  Bar& at(std::int64_t t_ms, std::size_t max_buckets) {
    if (bars.empty()) {
      lo = floor_div(t_ms, width_ms);
      bars.resize(1);
      return bars[0];
    }
    for (;;) {
      const std::int64_t idx = floor_div(t_ms, width_ms);
      const std::int64_t new_lo = std::min(lo, idx);
      const std::int64_t new_hi = std::max(lo + static_cast<std::int64_t>(bars.size()) - 1, idx);
      if (new_hi - new_lo + 1 <= static_cast<std::int64_t>(max_buckets)) {
        if (new_lo < lo) bars.insert(bars.begin(), static_cast<std::size_t>(lo - new_lo), Bar{});
        lo = new_lo;
        if (static_cast<std::int64_t>(bars.size()) < new_hi - lo + 1)
          bars.resize(static_cast<std::size_t>(new_hi - lo + 1));
        return bars[static_cast<std::size_t>(idx - lo)];
      }
      widen();
    }
  }
};

struct ConsentEvent {
  std::int64_t time_ms;
  std::string client;
  std::string consent;
  std::uint64_t granted;
  std::uint64_t withdrawn;  // newly withdrawn by this event
};

struct Example {
  std::int64_t time_ms;
  ViolationKind kind;
  Outcome outcome;
  std::size_t allow_rule;
  Action action;
  std::string host, path, purpose, rule, reason, client;
  std::vector<std::string> cookies;
  std::int64_t max_age;
  std::size_t input;
  std::uint64_t line;
};

struct SiteStats {
  std::uint64_t records = 0;
  std::uint64_t tracker_requests = 0;
  Counts total;
  std::array<Counts, kind_count> by_kind{};
  std::map<std::string, PurposeStats, std::less<>> by_purpose;
  std::map<std::string, HostStats, std::less<>> by_host;
  std::vector<ConsentEvent> events;
  std::uint64_t events_dropped = 0;
  std::vector<Example> examples;
  std::uint64_t examples_dropped = 0;
  Activity activity;
  std::int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
  std::optional<std::int64_t> first_consent_ms, first_violation_ms;
};

struct ConsentKeyState {
  std::string consent;  // last "consent" value seen
  std::uint64_t granted = 0;
  std::uint64_t withdrawn = 0;
};

struct InputStats {
  std::string name;
  std::uint64_t lines = 0, records = 0, malformed = 0, blank = 0;
};

struct MalformedExample {
  std::size_t input;
  std::uint64_t line;
  LineError error;
};

bool is_blank(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

bool any_glob(const std::vector<std::string>& patterns, std::string_view s) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) { return glob_match(p, s); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

bool is_strict_subdomain(std::string_view host, std::string_view site) {
  if (site.empty() || host.size() <= site.size() + 1) return false;
  const std::string h = lower(host);
  const std::string s = lower(site);
  return std::string_view(h).substr(h.size() - s.size()) == s && h[h.size() - s.size() - 1] == '.';
}

std::string_view outcome_name(Outcome o) noexcept {
  switch (o) {
    case Outcome::violation:
      return "violation";
    case Outcome::allowed:
      return "allowed";
    case Outcome::prevented:
      return "prevented";
  }
  return "violation";
}

}  // namespace

struct Analyzer::State {
  Options options;
  std::vector<InputStats> inputs;
  std::array<std::uint64_t, line_error_count> malformed_by_error{};
  std::vector<MalformedExample> malformed_examples;
  std::array<std::uint64_t, action_count> actions{};
  std::map<std::string, std::uint64_t, std::less<>> modes;
  std::array<Counts, kind_count> by_kind{};
  Counts total;
  std::vector<std::uint64_t> allow_matches;
  std::unordered_map<std::string, SiteStats> sites;
  std::unordered_map<std::string, ConsentKeyState> consent_keys;
  std::vector<std::string> purpose_names;  // bit i of a PurposeSet-like mask = purpose_names[i]
  std::int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
  struct Hits {
    std::uint64_t sites = 0, hosts = 0, purposes = 0, tracked_purposes = 0, consent_keys = 0, consent_events = 0,
                  examples = 0, malformed_examples = 0, modes = 0;
  } hits;
  LogRecord scratch;

  InputStats& input() {
    if (inputs.empty()) inputs.push_back({"-", 0, 0, 0, 0});
    return inputs.back();
  }

  void malformed(LineError e) {
    auto& in = input();
    ++in.malformed;
    ++malformed_by_error[static_cast<std::size_t>(e)];
    if (malformed_examples.size() < options.limits.max_malformed_examples) {
      malformed_examples.push_back({inputs.size() - 1, in.lines, e});
    } else {
      ++hits.malformed_examples;
    }
  }

  std::optional<std::uint64_t> purpose_bit(std::string_view purpose) {
    const auto it = std::find(purpose_names.begin(), purpose_names.end(), purpose);
    if (it != purpose_names.end()) return std::uint64_t{1} << (it - purpose_names.begin());
    if (purpose_names.size() >= std::min<std::size_t>(options.limits.max_tracked_purposes, 64)) {
      ++hits.tracked_purposes;
      return std::nullopt;
    }
    purpose_names.emplace_back(purpose);
    return std::uint64_t{1} << (purpose_names.size() - 1);
  }

  std::vector<std::string> names_of(std::uint64_t bits) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < purpose_names.size(); ++i) {
      if ((bits >> i & 1U) != 0) out.push_back(purpose_names[i]);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  SiteStats& site(const std::string& name) {
    auto it = sites.find(name);
    if (it != sites.end()) return it->second;
    if (sites.size() >= options.limits.max_sites) {
      ++hits.sites;
      return sites[std::string(other_key)];  // one slot past the cap, by design
    }
    return sites[name];
  }

  // Updates the (client, site) consent state from one record; returns the state (nullptr past the cap).
  ConsentKeyState* update_consent(const LogRecord& r, SiteStats& s) {
    std::string key = r.client;
    key.push_back('\0');
    key += r.site;
    auto it = consent_keys.find(key);
    if (it == consent_keys.end()) {
      if (consent_keys.size() >= options.limits.max_consent_keys) {
        ++hits.consent_keys;
        return nullptr;
      }
      it = consent_keys.emplace(std::move(key), ConsentKeyState{}).first;
    }
    auto& st = it->second;
    const std::string before_consent = st.consent;
    const std::uint64_t before_granted = st.granted;
    const std::uint64_t before_withdrawn = st.withdrawn;
    if (!r.consent.empty()) st.consent = r.consent;
    if (r.has_granted && (r.consent.empty() || r.consent == "valid")) {
      std::uint64_t now = 0;
      for (const auto& p : r.granted) {
        if (const auto bit = purpose_bit(p)) now |= *bit;
      }
      st.withdrawn |= st.granted & ~now;
      st.granted = now;
      st.withdrawn &= ~now;
    }
    if (!r.purpose.empty() &&
        (r.reason == "purpose_granted" || r.reason == "purpose_not_granted" || r.reason == "gpc_refused")) {
      if (const auto bit = purpose_bit(r.purpose)) {
        if (r.reason == "purpose_granted") {
          st.granted |= *bit;
          st.withdrawn &= ~*bit;
        } else if ((st.granted & *bit) != 0) {
          st.granted &= ~*bit;
          st.withdrawn |= *bit;
        }
      }
    }
    if (r.consent == "valid" && !s.first_consent_ms) s.first_consent_ms = r.time_ms;
    if (st.consent != before_consent || st.granted != before_granted) {
      if (s.events.size() < options.limits.max_consent_events_per_site) {
        s.events.push_back({r.time_ms, r.client, st.consent, st.granted, st.withdrawn & ~before_withdrawn});
      } else {
        ++s.events_dropped;
        ++hits.consent_events;
      }
    }
    return &st;
  }

  std::optional<ViolationKind> kind_of(const LogRecord& r, const ConsentKeyState* st) {
    const Action a = enforcing(r.action);
    // The proxy names the violation when it knows better than the log can show (a withdrawal it saw before
    // this log began, a CNAME chain); lifetimes are still measured against our thresholds, since an
    // operator's stricter cap is not a legal violation. Lines without a name, or with a name newer than
    // this reader, are derived below.
    if (const auto named = parse_kind(r.violation); named && a != Action::allow) {
      if (*named == ViolationKind::consent_cookie_too_long && r.max_age >= 0) {
        return r.max_age > options.consent_max_age_seconds ? named : std::nullopt;
      }
      if (*named == ViolationKind::audience_cookie_too_long && r.max_age >= 0) {
        return r.max_age > options.audience_max_age_seconds ? named : std::nullopt;
      }
      return named;
    }
    const bool cname = r.reason.find("cname") != std::string::npos;
    if (a == Action::cap_set_cookie || (a == Action::allow && r.max_age >= 0)) {
      const bool consent_cookie = any_glob(options.consent_cookie_rules, r.rule) ||
                                  std::any_of(r.cookies.begin(), r.cookies.end(),
                                              [&](const auto& n) { return any_glob(options.consent_cookie_names, n); });
      const bool audience = std::find(options.audience_purposes.begin(), options.audience_purposes.end(), r.purpose) !=
                            options.audience_purposes.end();
      // Without max_age a cap line still says the proxy judged the lifetime too long; with it, our
      // thresholds decide (an operator's stricter cap is not a legal violation).
      const auto too_long = [&](std::int64_t limit) {
        return r.max_age > limit || (r.max_age < 0 && a == Action::cap_set_cookie);
      };
      if (consent_cookie && too_long(options.consent_max_age_seconds)) return ViolationKind::consent_cookie_too_long;
      if (!consent_cookie && audience && too_long(options.audience_max_age_seconds)) {
        return ViolationKind::audience_cookie_too_long;
      }
      if (a == Action::cap_set_cookie) return std::nullopt;
    }
    switch (a) {
      case Action::allow:
        if (cname) return ViolationKind::cname_cloaked_tracker;
        return std::nullopt;
      case Action::block:
        if (cname || (!r.purpose.empty() && is_strict_subdomain(r.host, r.site))) {
          return ViolationKind::cname_cloaked_tracker;
        }
        if (r.consent == "missing" || (r.consent.empty() && r.reason == "consent_missing")) {
          return ViolationKind::tracker_before_consent;
        }
        return ViolationKind::tracker_without_consent;
      case Action::strip_cookie: {
        if (st != nullptr && !r.purpose.empty()) {
          const auto it = std::find(purpose_names.begin(), purpose_names.end(), r.purpose);
          if (it != purpose_names.end() && (st->withdrawn >> (it - purpose_names.begin()) & 1U) != 0) {
            return ViolationKind::withdrawn_cookie_sent;
          }
        }
        return ViolationKind::cookie_without_consent;
      }
      case Action::drop_set_cookie:
        return ViolationKind::set_cookie_before_consent;
      default:
        return std::nullopt;
    }
  }
};

Analyzer::Analyzer(Options options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->allow_matches.assign(state_->options.allow.size(), 0);
}

Analyzer::~Analyzer() = default;

const Options& Analyzer::options() const noexcept { return state_->options; }

void Analyzer::begin_input(std::string name) { state_->inputs.push_back({std::move(name), 0, 0, 0, 0}); }

void Analyzer::add_oversized_line() {
  ++state_->input().lines;
  state_->malformed(LineError::line_too_long);
}

void Analyzer::add_line(std::string_view line) {
  auto& s = *state_;
  auto& in = s.input();
  ++in.lines;
  if (is_blank(line)) {
    ++in.blank;
    return;
  }
  if (line.size() > s.options.limits.max_line_bytes) {
    s.malformed(LineError::line_too_long);
    return;
  }
  if (const auto error = parse_log_line(line, s.scratch)) {
    s.malformed(*error);
    return;
  }
  ++in.records;
  (void)add_record(s.scratch);
}

std::optional<Classification> Analyzer::add_record(const LogRecord& r) {
  auto& s = *state_;
  ++s.actions[static_cast<std::size_t>(r.action)];
  if (auto it = s.modes.find(r.mode); it != s.modes.end()) {
    ++it->second;
  } else if (s.modes.size() < s.options.limits.max_modes) {
    s.modes.emplace(r.mode, 1);
  } else {
    ++s.hits.modes;
    ++s.modes[std::string(other_key)];
  }
  s.first_ms = std::min(s.first_ms, r.time_ms);
  s.last_ms = std::max(s.last_ms, r.time_ms);

  SiteStats& site = s.site(r.site);
  ++site.records;
  site.first_ms = std::min(site.first_ms, r.time_ms);
  site.last_ms = std::max(site.last_ms, r.time_ms);
  const ConsentKeyState* st = s.update_consent(r, site);

  std::optional<Classification> c;
  if (const auto kind = s.kind_of(r, st)) {
    const bool enforced = enforcing(r.action) != Action::allow && !r.is_report_only();
    c = Classification{*kind, enforced ? Outcome::prevented : Outcome::violation, 0};
    if (!enforced) {
      for (std::size_t i = 0; i < s.options.allow.size(); ++i) {
        if (s.options.allow[i].matches(r, to_string(*kind))) {
          c->outcome = Outcome::allowed;
          c->allow_rule = i;
          ++s.allow_matches[i];
          break;
        }
      }
    }
  }

  const bool tracker = !r.purpose.empty() || !r.rule.empty();
  if (tracker) ++site.tracker_requests;
  if (tracker || c) {
    auto& bar = site.activity.at(r.time_ms, std::max<std::size_t>(s.options.limits.activity_buckets, 2));
    if (!c) {
      ++bar.permitted;
    } else if (c->outcome == Outcome::violation) {
      ++bar.violations;
    } else if (c->outcome == Outcome::allowed) {
      ++bar.allowed;
    } else {
      ++bar.prevented;
    }
  }

  const auto count_in = [](auto& map, const std::string& key, std::size_t cap, std::uint64_t& hit) -> auto& {
    auto it = map.find(key);
    if (it != map.end()) return it->second;
    if (map.size() >= cap) {
      ++hit;
      return map[std::string(other_key)];
    }
    return map[key];
  };
  if (!r.host.empty() && (tracker || c)) {
    auto& h = count_in(site.by_host, lower(r.host), s.options.limits.max_hosts_per_site, s.hits.hosts);
    ++h.requests;
    if (c) {
      h.counts.add(c->outcome);
      h.kinds |= 1U << static_cast<unsigned>(c->kind);
    }
  }
  if (!r.purpose.empty()) {
    auto& p = count_in(site.by_purpose, r.purpose, s.options.limits.max_purposes_per_site, s.hits.purposes);
    ++p.requests;
    if (c) p.counts.add(c->outcome);
  }
  if (c) {
    site.total.add(c->outcome);
    site.by_kind[static_cast<std::size_t>(c->kind)].add(c->outcome);
    s.total.add(c->outcome);
    s.by_kind[static_cast<std::size_t>(c->kind)].add(c->outcome);
    if (c->outcome != Outcome::prevented) {
      if (c->outcome == Outcome::violation && !site.first_violation_ms) site.first_violation_ms = r.time_ms;
      if (site.examples.size() < s.options.limits.max_examples_per_site) {
        site.examples.push_back({r.time_ms, c->kind, c->outcome, c->allow_rule, r.action, r.host, r.path, r.purpose,
                                 r.rule, r.reason, r.client, r.cookies, r.max_age,
                                 s.inputs.empty() ? 0 : s.inputs.size() - 1,
                                 s.inputs.empty() ? 0 : s.inputs.back().lines});
      } else {
        ++site.examples_dropped;
        ++s.hits.examples;
      }
    }
  }
  return c;
}

std::uint64_t Analyzer::violations() const noexcept { return state_->total.violations; }

std::size_t Analyzer::state_entries() const noexcept {
  const auto& s = *state_;
  std::size_t n = s.sites.size() + s.consent_keys.size() + s.purpose_names.size() + s.malformed_examples.size() +
                  s.modes.size() + s.inputs.size();
  for (const auto& [name, site] : s.sites) {
    n += site.by_host.size() + site.by_purpose.size() + site.events.size() + site.examples.size() +
         site.activity.bars.size();
  }
  return n;
}

namespace {

ojson time_or_null(std::int64_t ms, bool valid) { return valid ? ojson(format_rfc3339_ms(ms)) : ojson(nullptr); }
ojson time_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? ojson(format_rfc3339_ms(*ms)) : ojson(nullptr);
}

template <class Map>
std::vector<typename Map::const_pointer> sorted_by_counts(const Map& map) {
  std::vector<typename Map::const_pointer> v;
  v.reserve(map.size());
  for (const auto& e : map) v.push_back(&e);
  std::sort(v.begin(), v.end(), [](auto a, auto b) {
    const auto& ca = a->second.counts;
    const auto& cb = b->second.counts;
    if (ca.violations != cb.violations) return ca.violations > cb.violations;
    if (ca.allowed != cb.allowed) return ca.allowed > cb.allowed;
    if (ca.prevented != cb.prevented) return ca.prevented > cb.prevented;
    return a->first < b->first;
  });
  return v;
}

}  // namespace

nlohmann::ordered_json Analyzer::summary() const {
  const auto& s = *state_;
  ojson out;
  out["schema_version"] = schema_version;
  out["generator"] = "consentgate report";

  ojson inputs = ojson::array();
  std::uint64_t lines = 0, records = 0, malformed = 0, blank = 0;
  for (const auto& in : s.inputs) {
    inputs.push_back({{"name", in.name},
                      {"lines", in.lines},
                      {"records", in.records},
                      {"malformed", in.malformed},
                      {"blank", in.blank}});
    lines += in.lines;
    records += in.records;
    malformed += in.malformed;
    blank += in.blank;
  }
  out["inputs"] = std::move(inputs);
  out["lines"] = {{"total", lines}, {"records", records}, {"malformed", malformed}, {"blank", blank}};

  ojson by_error = ojson::object();
  for (std::size_t i = 0; i < line_error_count; ++i) {
    if (s.malformed_by_error[i] != 0)
      by_error[std::string(to_string(static_cast<LineError>(i)))] = s.malformed_by_error[i];
  }
  ojson malformed_examples = ojson::array();
  for (const auto& m : s.malformed_examples) {
    malformed_examples.push_back(
        {{"input", s.inputs[m.input].name}, {"line", m.line}, {"error", std::string(to_string(m.error))}});
  }
  out["malformed"] = {{"by_error", std::move(by_error)}, {"examples", std::move(malformed_examples)}};

  const bool any_time = s.first_ms <= s.last_ms;
  out["time_range"] = {{"first", time_or_null(s.first_ms, any_time)}, {"last", time_or_null(s.last_ms, any_time)}};

  ojson modes = ojson::object();
  for (const auto& [mode, n] : s.modes) modes[mode] = n;
  out["modes"] = std::move(modes);
  ojson actions = ojson::object();
  for (std::size_t i = 0; i < action_count; ++i) actions[std::string(to_string(static_cast<Action>(i)))] = s.actions[i];
  out["actions"] = std::move(actions);

  out["totals"] = s.total.to_json();
  ojson kinds = ojson::object();
  for (std::size_t i = 0; i < kind_count; ++i)
    kinds[std::string(to_string(static_cast<ViolationKind>(i)))] = s.by_kind[i].to_json();
  out["by_kind"] = std::move(kinds);

  ojson allow = ojson::array();
  for (std::size_t i = 0; i < s.options.allow.size(); ++i) {
    allow.push_back({{"rule", s.options.allow[i].text}, {"matched", s.allow_matches[i]}});
  }
  out["allow_rules"] = std::move(allow);

  std::vector<const std::pair<const std::string, SiteStats>*> sites;
  for (const auto& e : s.sites) sites.push_back(&e);
  std::sort(sites.begin(), sites.end(), [](auto a, auto b) {
    const auto& ca = a->second.total;
    const auto& cb = b->second.total;
    if (ca.violations != cb.violations) return ca.violations > cb.violations;
    if (ca.allowed != cb.allowed) return ca.allowed > cb.allowed;
    if (ca.prevented != cb.prevented) return ca.prevented > cb.prevented;
    return a->first < b->first;
  });
  ojson site_list = ojson::array();
  for (const auto* e : sites) {
    const auto& st = e->second;
    ojson j;
    j["site"] = e->first;
    j["records"] = st.records;
    j["tracker_requests"] = st.tracker_requests;
    j["first_seen"] = time_or_null(st.first_ms, st.records != 0);
    j["last_seen"] = time_or_null(st.last_ms, st.records != 0);
    j["first_consent"] = time_or_null(st.first_consent_ms);
    j["first_violation"] = time_or_null(st.first_violation_ms);
    j["totals"] = st.total.to_json();
    ojson by_kind = ojson::object();
    for (std::size_t i = 0; i < kind_count; ++i) {
      const auto& c = st.by_kind[i];
      if (c.violations + c.allowed + c.prevented != 0)
        by_kind[std::string(to_string(static_cast<ViolationKind>(i)))] = c.to_json();
    }
    j["by_kind"] = std::move(by_kind);
    ojson by_purpose = ojson::array();
    for (const auto* p : sorted_by_counts(st.by_purpose)) {
      ojson pj{{"purpose", p->first}, {"requests", p->second.requests}};
      pj.update(p->second.counts.to_json());
      by_purpose.push_back(std::move(pj));
    }
    j["by_purpose"] = std::move(by_purpose);
    ojson by_host = ojson::array();
    for (const auto* h : sorted_by_counts(st.by_host)) {
      ojson hj{{"host", h->first}, {"requests", h->second.requests}};
      hj.update(h->second.counts.to_json());
      ojson hk = ojson::array();
      for (std::size_t i = 0; i < kind_count; ++i) {
        if ((h->second.kinds >> i & 1U) != 0) hk.push_back(to_string(static_cast<ViolationKind>(i)));
      }
      hj["kinds"] = std::move(hk);
      by_host.push_back(std::move(hj));
    }
    j["by_host"] = std::move(by_host);
    ojson events = ojson::array();
    for (const auto& ev : st.events) {
      events.push_back({{"time", format_rfc3339_ms(ev.time_ms)},
                        {"client", ev.client},
                        {"consent", ev.consent},
                        {"granted", s.names_of(ev.granted)},
                        {"withdrawn", s.names_of(ev.withdrawn)}});
    }
    j["consent_events"] = std::move(events);
    j["consent_events_dropped"] = st.events_dropped;
    ojson buckets = ojson::array();
    for (const auto& b : st.activity.bars) {
      buckets.push_back({{"permitted", b.permitted},
                         {"prevented", b.prevented},
                         {"violations", b.violations},
                         {"allowed", b.allowed}});
    }
    j["activity"] = {
        {"start",
         st.activity.bars.empty() ? ojson(nullptr) : ojson(format_rfc3339_ms(st.activity.lo * st.activity.width_ms))},
        {"bucket_ms", st.activity.width_ms},
        {"buckets", std::move(buckets)}};
    ojson examples = ojson::array();
    for (const auto& ex : st.examples) {
      ojson xj{{"time", format_rfc3339_ms(ex.time_ms)},
               {"kind", to_string(ex.kind)},
               {"outcome", outcome_name(ex.outcome)},
               {"action", to_string(ex.action)},
               {"client", ex.client},
               {"host", ex.host},
               {"path", ex.path},
               {"purpose", ex.purpose},
               {"rule", ex.rule},
               {"reason", ex.reason},
               {"cookies", ex.cookies},
               {"max_age", ex.max_age >= 0 ? ojson(ex.max_age) : ojson(nullptr)},
               {"input", s.inputs.empty() ? std::string("-") : s.inputs[ex.input].name},
               {"line", ex.line}};
      xj["allow_rule"] = ex.outcome == Outcome::allowed ? ojson(s.options.allow[ex.allow_rule].text) : ojson(nullptr);
      examples.push_back(std::move(xj));
    }
    j["examples"] = std::move(examples);
    j["examples_dropped"] = st.examples_dropped;
    site_list.push_back(std::move(j));
  }
  out["sites"] = std::move(site_list);

  const auto& l = s.options.limits;
  out["limits"] = {{"max_line_bytes", l.max_line_bytes},
                   {"max_sites", l.max_sites},
                   {"max_hosts_per_site", l.max_hosts_per_site},
                   {"max_purposes_per_site", l.max_purposes_per_site},
                   {"max_tracked_purposes", l.max_tracked_purposes},
                   {"max_consent_keys", l.max_consent_keys},
                   {"max_consent_events_per_site", l.max_consent_events_per_site},
                   {"max_examples_per_site", l.max_examples_per_site},
                   {"max_malformed_examples", l.max_malformed_examples},
                   {"hit",
                    {{"sites", s.hits.sites},
                     {"hosts", s.hits.hosts},
                     {"purposes", s.hits.purposes},
                     {"tracked_purposes", s.hits.tracked_purposes},
                     {"consent_keys", s.hits.consent_keys},
                     {"consent_events", s.hits.consent_events},
                     {"examples", s.hits.examples},
                     {"malformed_examples", s.hits.malformed_examples},
                     {"modes", s.hits.modes}}}};
  out["thresholds"] = {{"audience_max_age_seconds", s.options.audience_max_age_seconds},
                       {"consent_max_age_seconds", s.options.consent_max_age_seconds}};
  return out;
}

bool analyze_stream(Analyzer& analyzer, std::istream& in, std::string name) {
  analyzer.begin_input(std::move(name));
  LineReader reader(in, analyzer.options().limits.max_line_bytes);
  std::string_view line;
  for (;;) {
    switch (reader.next(line)) {
      case LineReader::Status::line:
        analyzer.add_line(line);
        break;
      case LineReader::Status::too_long:
        analyzer.add_oversized_line();
        break;
      case LineReader::Status::end:
        return true;
      case LineReader::Status::error:
        return false;
    }
  }
}

}  // namespace consent::report
