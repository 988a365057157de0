#include "config/importers.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "policy/cookie_matcher.hpp"
#include "policy/domain_matcher.hpp"
#include "policy/host.hpp"

namespace consent::config {
namespace {

// Cookie names that many unrelated sites use for their own, functional, purposes: a list that files them
// under marketing or analytics for one platform must not make every site lose its session or cart.
constexpr std::array<std::string_view, 41> generic_cookie_names{
    "id",       "uid",      "sid",     "ssid",    "session",   "sessionid",  "session_id", "sess",        "user",
    "userid",   "user_id",  "token",   "csrf",    "csrftoken", "xsrf",       "lang",       "language",    "locale",
    "country",  "currency", "cart",    "basket",  "test",      "visitor",    "visitor_id", "visitorid",   "tracking",
    "referrer", "ref",      "source",  "debug",   "auth",      "auth_token", "login",      "remember_me", "remember",
    "dnt",      "optout",   "opt_out", "consent", "prefs"};

// Local names of hosts files (the loopback block at their top), never trackers.
constexpr std::array<std::string_view, 9> local_host_names{"localhost",     "localhost.localdomain", "local",
                                                           "broadcasthost", "ip6-localhost",         "ip6-loopback",
                                                           "ip6-localnet",  "ip6-allnodes",          "ip6-allrouters"};

// ABP options that keep a rule "this whole host": $third-party narrows to cross-site loads, which is
// what a tracker rule judges anyway; $important and $all/$document only change uBO's precedence.
constexpr std::array<std::string_view, 6> domain_only_options{"third-party", "3p",       "important",
                                                              "all",         "document", "doc"};

class Problems {
 public:
  Problems(ImportResult& result, std::string file) : result_(result), file_(std::move(file)) {}

  void add(bool is_error, std::size_t line, std::size_t column, std::string where, std::string message) {
    if (result_.problems.size() >= max_import_problems) {
      ++result_.problems_not_kept;
      if (is_error) has_unkept_error_ = true;
      return;
    }
    result_.problems.push_back({file_, line, column, std::move(where), std::move(message), is_error});
  }
  void error(std::size_t line, std::size_t column, std::string where, std::string message) {
    add(true, line, column, std::move(where), std::move(message));
  }
  void warning(std::size_t line, std::size_t column, std::string where, std::string message) {
    add(false, line, column, std::move(where), std::move(message));
  }
  [[nodiscard]] bool has_errors() const { return has_unkept_error_ || result_.has_errors(); }

 private:
  ImportResult& result_;
  std::string file_;
  bool has_unkept_error_ = false;
};

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Length of the valid UTF-8 sequence at s[i], 0 when invalid (overlongs, surrogates, > U+10FFFF refused).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned cp = b0 & (0x7FU >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0U) != 0x80U) return 0;
    cp = (cp << 6U) | (b & 0x3FU);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Text from the input, made safe for a YAML comment or single-quoted scalar: one line, printable,
// valid UTF-8 (other bytes become '?'), bounded.
std::string safe_text(std::string_view s, std::size_t max_bytes = max_import_text_bytes) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 1;
    std::string_view piece;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      ++i;
      continue;
    }
    if (c >= 0x21 && c < 0x7F) {
      piece = s.substr(i, 1);
    } else if (c >= 0x80 && (n = utf8_sequence(s, i)) != 0) {
      piece = s.substr(i, n);
    } else {
      n = 1;
      piece = "?";
    }
    if (out.size() + piece.size() + (space ? 1 : 0) > max_bytes) {
      out += "...";
      break;
    }
    if (space) out += ' ';
    space = false;
    out += piece;
    i += n;
  }
  return out;
}

std::string slug(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_ascii_alnum(c)) {
      out += ascii_lower(c);
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 60) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "x" : out;
}

std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  return {line, offset - start + 1};
}

bool is_public_suffix(std::string_view domain) {
  const std::string probe = "x." + std::string(domain);
  return policy::registrable_domain(probe) == probe;
}

// A domain from a list, canonical, or the reason it cannot be a tracker domain.
struct DomainCheck {
  std::string domain;
  std::string error;
};

DomainCheck check_domain(std::string_view raw) {
  std::string d = lower(raw);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty()) return {"", "empty domain"};
  if (d.find('*') != std::string::npos) return {"", quote(safe_text(raw)) + " is not a domain (wildcard)"};
  if (auto error = policy::domain_pattern_error(d)) {
    return {"", quote(safe_text(raw)) + " is not a domain (" + *error + ")"};
  }
  if (policy::is_ip_literal(d)) return {"", quote(safe_text(raw)) + " is an IP address, not a domain"};
  if (d.find('.') == std::string::npos) return {"", quote(safe_text(raw)) + " is not a domain (a single label)"};
  // RFC 1123 2.1: a label neither starts nor ends with '-' (ABP fragments such as "-tracker.js" do).
  if (d.front() == '-' || d.back() == '-' || d.find(".-") != std::string::npos || d.find("-.") != std::string::npos) {
    return {"", quote(safe_text(raw)) + " is not a domain (a label starts or ends with '-')"};
  }
  if (is_public_suffix(d)) {
    return {"", quote(d) + " is a public suffix: it would match every site under it"};
  }
  return {policy::canonical_domain_pattern(d), ""};
}

// Sorted, unique, and without a domain whose parent is also listed (the parent already matches it).
void minimise_domains(std::vector<std::string>& domains) {
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  const std::set<std::string, std::less<>> all(domains.begin(), domains.end());
  std::erase_if(domains, [&](const std::string& d) {
    for (auto dot = d.find('.'); dot != std::string::npos; dot = d.find('.', dot + 1)) {
      if (all.count(std::string_view(d).substr(dot + 1)) != 0) return true;
    }
    return false;
  });
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Sorts trackers by id and makes ids unique ("-2", "-3"... in that order), patterns sorted.
void finish(ImportResult& result) {
  for (auto& t : result.trackers) {
    minimise_domains(t.domains);
    sort_unique(t.cookies);
    sort_unique(t.urls);
  }
  std::erase_if(result.trackers,
                [](const ImportedTracker& t) { return t.domains.empty() && t.cookies.empty() && t.urls.empty(); });
  std::sort(result.trackers.begin(), result.trackers.end(), [](const ImportedTracker& a, const ImportedTracker& b) {
    return std::tie(a.id, a.purpose, a.note) < std::tie(b.id, b.purpose, b.note);
  });
  std::set<std::string> used;
  for (const auto& t : result.trackers) used.insert(t.id);
  for (std::size_t i = 1; i < result.trackers.size(); ++i) {
    if (result.trackers[i].id != result.trackers[i - 1].id) continue;
    const std::string base = result.trackers[i].id;
    std::size_t j = i;
    for (int n = 2; j < result.trackers.size() && result.trackers[j].id == base; ++j) {
      std::string id;
      do {
        id = base + "-" + std::to_string(n++);
      } while (used.count(id) != 0);
      used.insert(id);
      result.trackers[j].id = id;
    }
    i = j - 1;
  }
  std::sort(result.trackers.begin(), result.trackers.end(),
            [](const ImportedTracker& a, const ImportedTracker& b) { return a.id < b.id; });
}

PurposeMap merged(const PurposeMap& defaults, const PurposeMap& overrides) {
  PurposeMap out = defaults;
  for (const auto& [k, v] : overrides) out[k] = v;
  return out;
}

// Wraps a long declared licence into comment lines.
void add_wrapped(std::vector<std::string>& out, std::string_view prefix, std::string_view text) {
  const std::string clean = safe_text(text, 1200);
  std::string line(prefix);
  std::size_t pos = 0;
  while (pos < clean.size()) {
    auto next = clean.find(' ', pos);
    if (next == std::string::npos) next = clean.size();
    const auto word = std::string_view(clean).substr(pos, next - pos);
    if (line.size() + word.size() + 1 > 110 && line.size() > prefix.size()) {
      out.push_back(line);
      line = "  ";
    }
    if (line.size() > 2 || line == prefix) line += (line.empty() || line.back() == ' ') ? "" : " ";
    line += word;
    pos = next + 1;
  }
  if (!line.empty() && line != prefix) out.push_back(line);
}

// ---------------------------------------------------------------------------------------------- JSON
// The depth of the deepest nesting, and where it first exceeds `limit` (checked before parsing so
// that a hostile "[[[[..." costs a linear scan, not a parser's stack or heap).
std::optional<std::size_t> too_deep_at(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

std::string json_type(const nlohmann::json& j) { return j.type_name(); }

// RE2 text matching `s` literally.
std::string re2_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".+*?()|[]{}^$\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

struct DisconnectEntry {
  std::string purpose;
  std::string entity;
  std::string category;
  std::string homepage;
};

}  // namespace

std::string ImportProblem::to_string() const {
  std::string out = file;
  if (line != 0) {
    out += ":" + std::to_string(line);
    if (column != 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!is_error) out += "warning: ";
  if (!where.empty()) out += where + ": ";
  out += message;
  return out;
}

bool ImportResult::has_errors() const noexcept {
  return std::any_of(problems.begin(), problems.end(), [](const ImportProblem& p) { return p.is_error; });
}

std::size_t ImportResult::domain_count() const noexcept {
  std::size_t n = 0;
  for (const auto& t : trackers) n += t.domains.size();
  return n;
}

std::size_t ImportResult::cookie_count() const noexcept {
  std::size_t n = 0;
  for (const auto& t : trackers) n += t.cookies.size();
  return n;
}

const PurposeMap& default_disconnect_purposes() {
  // Fingerprinting (EDPB guidelines 2/2023 on art. 5(3)): reading device properties to single a browser
  // out needs consent like a cookie. "Invasive" fingerprinters identify browsers across sites for
  // profiling, hence advertising-personalised; "General" covers scripts that also fingerprint for fraud
  // and bot detection, which sites need: left to the user's --map. Cryptomining is abuse, not a purpose
  // anyone consents to: a blocker's job (uBlock's badware list), skipped. Content (embedded videos,
  // maps) and EmailAggressive (click redirects, which would break links in mails) would break pages.
  static const PurposeMap map{
      {"Advertising", "advertising-personalised"},
      {"Analytics", "audience-measurement"},
      {"Social", "social-media"},
      {"Email", "email-tracking"},
      {"FingerprintingInvasive", "advertising-personalised"},
      {"FingerprintingGeneral", std::string(skip_purpose)},
      {"Cryptomining", std::string(skip_purpose)},
      {"Content", std::string(skip_purpose)},
      {"EmailAggressive", std::string(skip_purpose)},
      {"Anti-fraud", std::string(skip_purpose)},
      {"ConsentManagers", std::string(skip_purpose)},
      {"session-replay", "session-replay"},
  };
  return map;
}

const PurposeMap& default_ocd_purposes() {
  static const PurposeMap map{
      {"Analytics", "audience-measurement"},          {"Marketing", "advertising-personalised"},
      {"Personalization", "content-personalisation"}, {"Functional", std::string(skip_purpose)},
      {"Necessary", std::string(skip_purpose)},       {"Security", std::string(skip_purpose)},
  };
  return map;
}

ImportResult import_disconnect(std::string_view text, const ImportOptions& options) {
  ImportResult result;
  Problems problems(result, options.file);
  if (text.size() > max_import_bytes) {
    problems.error(0, 0, "", "larger than " + std::to_string(max_import_bytes) + " bytes");
    return result;
  }
  if (auto at = too_deep_at(text, max_import_json_depth)) {
    const auto [line, column] = line_column(text, *at);
    problems.error(line, column, "", "nested deeper than " + std::to_string(max_import_json_depth) + " levels");
    return result;
  }
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the byte at which the parser gave up.
    const auto [line, column] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 4: syntax error ..." -> the reason.
    if (const auto colon = what.find(": ", what.find("column")); colon != std::string::npos) what.erase(0, colon + 2);
    problems.error(line, column, "", "not valid JSON: " + safe_text(what, 300));
    return result;
  }
  if (!root.is_object() || !root.contains("categories") || !root["categories"].is_object()) {
    problems.error(0, 0, "", "expected a JSON object with a \"categories\" object (Disconnect services.json)");
    return result;
  }
  if (auto lic = root.find("license"); lic != root.end() && lic->is_string()) {
    add_wrapped(result.header, "licence (as declared by the list): ", lic->get<std::string>());
  }
  const PurposeMap purposes = merged(default_disconnect_purposes(), options.purposes);
  const std::string replay_purpose = [&] {
    const auto it = purposes.find("session-replay");
    return it == purposes.end() || it->second == skip_purpose ? std::string() : it->second;
  }();

  // Categories in a fixed precedence: a domain listed in two categories keeps the first one's purpose.
  const std::array<std::string_view, 11> precedence{"Advertising",
                                                    "Analytics",
                                                    "Social",
                                                    "FingerprintingInvasive",
                                                    "FingerprintingGeneral",
                                                    "Cryptomining",
                                                    "Email",
                                                    "EmailAggressive",
                                                    "Content",
                                                    "Anti-fraud",
                                                    "ConsentManagers"};
  std::vector<std::string> order;
  for (auto name : precedence) {
    if (root["categories"].contains(std::string(name))) order.emplace_back(name);
  }
  for (const auto& [name, value] : root["categories"].items()) {
    if (std::find(precedence.begin(), precedence.end(), name) == precedence.end()) order.push_back(name);
  }

  std::map<std::pair<std::string, std::string>, ImportedTracker> by_entity;  // (purpose, entity)
  std::map<std::string, std::string, std::less<>> claimed;                   // domain or url -> purpose
  for (const auto& category : order) {
    const auto& list = root["categories"][category];
    const std::string cat_path = "categories." + safe_text(category);
    if (!list.is_array()) {
      problems.error(0, 0, cat_path, "expected an array of entities, got " + json_type(list));
      continue;
    }
    const auto mapped = purposes.find(category);
    if (mapped == purposes.end()) {
      problems.warning(0, 0, cat_path,
                       "category has no purpose; skipped (map it with --map '" + safe_text(category) + "=PURPOSE')");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& element = list[i];
      const std::string el_path = cat_path + "[" + std::to_string(i) + "]";
      if (!element.is_object() || element.size() != 1) {
        problems.error(0, 0, el_path, "expected an object with one entity name, got " + json_type(element));
        continue;
      }
      // Not a structured binding of *items().begin(): the proxy holding the key would die at the ';'.
      const auto first = element.begin();
      const std::string entity = first.key();
      const auto& props = first.value();
      const std::string entity_path = el_path + "." + quote(safe_text(entity));
      if (!props.is_object()) {
        problems.error(0, 0, entity_path, "expected an object, got " + json_type(props));
        continue;
      }
      bool is_replay = false;
      for (const auto& [key, value] : props.items()) {
        if (value.is_string()) {
          if (key == "session-replay" && value.get<std::string>() == "true") is_replay = true;
        } else if (!value.is_array()) {
          problems.error(0, 0, entity_path + "." + quote(safe_text(key)),
                         "expected an array of domains or a string flag, got " + json_type(value));
        }
      }
      std::string purpose;
      if (is_replay && !replay_purpose.empty() && mapped != purposes.end() && mapped->second != skip_purpose) {
        purpose = replay_purpose;
      } else if (mapped != purposes.end()) {
        purpose = mapped->second;
      }
      for (const auto& [homepage, value] : props.items()) {
        if (!value.is_array()) continue;
        for (std::size_t k = 0; k < value.size(); ++k) {
          const std::string d_path = entity_path + "." + quote(safe_text(homepage)) + "[" + std::to_string(k) + "]";
          if (!value[k].is_string()) {
            problems.warning(0, 0, d_path, "expected a domain string, got " + json_type(value[k]) + "; skipped");
            continue;
          }
          if (purpose.empty()) {
            ++result.skipped["unmapped category"];
            continue;
          }
          if (purpose == skip_purpose) {
            ++result.skipped["category skipped by the purpose map"];
            continue;
          }
          const auto raw = value[k].get<std::string>();
          const auto slash = raw.find('/');
          const auto host = check_domain(std::string_view(raw).substr(0, slash));
          if (!host.error.empty()) {
            problems.warning(0, 0, d_path, host.error + "; skipped");
            continue;
          }
          std::string url;
          if (slash != std::string::npos) {
            // "google.com/pagead/1p-user-list": the host and its subdomains, under that path only.
            const auto path = std::string_view(raw).substr(slash);
            if (path.size() > 256 || std::any_of(path.begin(), path.end(), [](char c) {
                  return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F;
                })) {
              problems.warning(0, 0, d_path, quote(safe_text(raw)) + " has a path that is not plain ASCII; skipped");
              continue;
            }
            url = "^([^/]*\\.)?" + re2_escape(host.domain) + re2_escape(path);
          }
          const std::string& key = url.empty() ? host.domain : url;
          if (auto [it, inserted] = claimed.emplace(key, purpose); !inserted) {
            ++result.skipped[it->second == purpose ? "listed twice" : "listed in an earlier category"];
            continue;
          }
          auto& t = by_entity[{purpose, entity}];
          if (t.id.empty()) {
            t.id = "disconnect-" + slug(entity) + "-" + slug(purpose);
            t.purpose = purpose;
            t.note = safe_text(entity) + " (" + safe_text(homepage) + "), Disconnect category " + safe_text(category);
            t.source = "Disconnect services.json, " + safe_text(category) + ": " + safe_text(entity);
          } else if (t.source.find(", " + safe_text(category) + ":") == std::string::npos &&
                     t.note.find(safe_text(category)) == std::string::npos) {
            t.note += ", " + safe_text(category);
          }
          (url.empty() ? t.domains : t.urls).push_back(key);
        }
      }
    }
  }
  if (problems.has_errors()) return result;
  for (auto& [key, t] : by_entity) result.trackers.push_back(std::move(t));
  finish(result);
  if (result.trackers.empty()) problems.error(0, 0, "", "no tracker domain in a mapped category");
  return result;
}

// ----------------------------------------------------------------------------------------------- CSV
namespace {

struct CsvRecord {
  std::size_t line = 0;
  std::vector<std::string> fields;
};

// RFC 4180 records, with the line each starts on. Problems are errors; parsing goes on after one so that
// every malformed line is reported at once.
std::vector<CsvRecord> parse_csv(std::string_view text, Problems& problems) {
  std::vector<CsvRecord> out;
  std::size_t i = 0;
  std::size_t line = 1;
  std::size_t line_start = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    i = 3;
    line_start = 3;
  }
  while (i < text.size()) {
    CsvRecord rec;
    rec.line = line;
    const std::size_t record_start = i;
    std::string field;
    bool ok = true;
    for (;;) {
      if (i - record_start > max_import_line_bytes) {
        problems.error(rec.line, 0, "", "record longer than " + std::to_string(max_import_line_bytes) + " bytes");
        ok = false;
        break;
      }
      if (i < text.size() && text[i] == '"' && field.empty()) {
        const std::size_t q_line = line;
        const std::size_t q_col = i - line_start + 1;
        ++i;
        bool closed = false;
        while (i < text.size() && i - record_start <= max_import_line_bytes) {
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
          }
          field += text[i++];
        }
        if (!closed) {
          problems.error(q_line, q_col, "",
                         i >= text.size() ? "quoted field not closed before the end of the input"
                                          : "quoted field longer than the record limit");
          ok = false;
          break;
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          problems.error(line, i - line_start + 1, "", "unexpected character after a closing quote");
          ok = false;
          break;
        }
        continue;
      }
      if (i >= text.size() || text[i] == '\n' || text[i] == '\r') {
        rec.fields.push_back(std::move(field));
        if (i < text.size() && text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        line_start = i;
        break;
      }
      if (text[i] == ',') {
        rec.fields.push_back(std::move(field));
        field.clear();
        ++i;
        continue;
      }
      if (text[i] == '"') {
        problems.error(line, i - line_start + 1, "", "a quote inside an unquoted field");
        ok = false;
        break;
      }
      if (text[i] == '\0') {
        problems.error(line, i - line_start + 1, "", "a NUL byte: not a text file");
        ok = false;
        break;
      }
      field += text[i++];
    }
    if (!ok) {
      // Resynchronise at the next line: later lines still get checked.
      while (i < text.size() && text[i] != '\n') ++i;
      if (i < text.size()) ++i;
      line = line + 1;
      line_start = i;
      continue;
    }
    if (rec.fields.size() == 1 && trim(rec.fields[0]).empty()) continue;  // blank line
    out.push_back(std::move(rec));
  }
  return out;
}

bool is_generic_cookie(std::string_view name) {
  const std::string l = lower(name);
  return std::find(generic_cookie_names.begin(), generic_cookie_names.end(), l) != generic_cookie_names.end();
}

}  // namespace

ImportResult import_open_cookie_database(std::string_view text, const ImportOptions& options) {
  ImportResult result;
  Problems problems(result, options.file);
  if (text.size() > max_import_bytes) {
    problems.error(0, 0, "", "larger than " + std::to_string(max_import_bytes) + " bytes");
    return result;
  }
  const auto records = parse_csv(text, problems);
  if (records.empty()) {
    if (!problems.has_errors()) problems.error(0, 0, "", "empty input: expected a CSV header and rows");
    return result;
  }
  const auto& header = records.front().fields;
  const auto column = [&](std::string_view name) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (trim(header[i]) == name) return i;
    }
    return std::nullopt;
  };
  const auto platform_col = column("Platform");
  const auto category_col = column("Category");
  const auto name_col = column("Cookie / Data Key name");
  const auto wildcard_col = column("Wildcard match");
  const auto domain_col = column("Domain");
  const auto retention_col = column("Retention period");
  bool header_ok = true;
  for (const auto& [col, name] :
       std::array<std::pair<std::optional<std::size_t>, std::string_view>, 4>{{{platform_col, "Platform"},
                                                                               {category_col, "Category"},
                                                                               {name_col, "Cookie / Data Key name"},
                                                                               {wildcard_col, "Wildcard match"}}}) {
    if (!col) {
      problems.error(records.front().line, 0, "header",
                     "missing column " + quote(name) + " (Open Cookie Database CSV expected)");
      header_ok = false;
    }
  }
  if (!header_ok) return result;
  const PurposeMap purposes = merged(default_ocd_purposes(), options.purposes);
  std::map<std::pair<std::string, std::string>, ImportedTracker> by_platform;  // (purpose, platform)
  std::map<std::string, std::string, std::less<>> claimed;                     // cookie pattern -> purpose
  std::set<std::string, std::less<>> warned_categories;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (rec.fields.size() != header.size()) {
      problems.error(rec.line, 0, "",
                     "expected " + std::to_string(header.size()) + " fields, got " + std::to_string(rec.fields.size()));
      continue;
    }
    const auto category = std::string(trim(rec.fields[*category_col]));
    const auto platform = std::string(trim(rec.fields[*platform_col]));
    const auto name = std::string(trim(rec.fields[*name_col]));
    const auto wildcard = trim(rec.fields[*wildcard_col]);
    const auto mapped = purposes.find(category);
    if (mapped == purposes.end()) {
      if (warned_categories.insert(category).second) {
        problems.warning(rec.line, 0, "Category",
                         "category " + quote(safe_text(category)) +
                             " has no purpose; its rows are skipped (map it "
                             "with --map '" +
                             safe_text(category) + "=PURPOSE')");
      }
      ++result.skipped["unmapped category"];
      continue;
    }
    if (mapped->second == skip_purpose) {
      ++result.skipped["category skipped by the purpose map"];
      continue;
    }
    if (wildcard != "0" && wildcard != "1" && !wildcard.empty()) {
      problems.warning(rec.line, 0, "Wildcard match",
                       "expected 0 or 1, got " + quote(safe_text(wildcard)) + "; row skipped");
      continue;
    }
    if (domain_col && !trim(rec.fields[*domain_col]).empty()) {
      // Set by a third party's own domain: matched by name everywhere, a short name like "td" would
      // strip unrelated first-party cookies; the tracker's domain rule is what recognises it.
      ++result.skipped["cookie set on a third-party domain"];
      continue;
    }
    if (is_generic_cookie(name)) {
      ++result.skipped["cookie name too generic"];
      continue;
    }
    std::string pattern = name;
    if (wildcard == "1" && (pattern.empty() || pattern.back() != '*')) pattern += '*';
    if (auto error = policy::cookie_pattern_error(pattern); error || name.empty()) {
      problems.warning(
          rec.line, 0, "Cookie / Data Key name",
          quote(safe_text(name)) + " is not a cookie name (" + (error ? *error : "empty") + "); row skipped");
      continue;
    }
    const auto& purpose = mapped->second;
    if (auto [it, inserted] = claimed.emplace(pattern, purpose); !inserted) {
      ++result.skipped[it->second == purpose ? "listed twice" : "listed earlier with another purpose"];
      continue;
    }
    auto& t = by_platform[{purpose, platform}];
    if (t.id.empty()) {
      t.id = "ocd-" + slug(platform) + "-" + slug(purpose);
      t.purpose = purpose;
      t.note = "Open Cookie Database platform " + quote(safe_text(platform));
      t.source = "Open Cookie Database: " + safe_text(platform);
    }
    t.cookies.push_back(pattern);
    if (retention_col && !trim(rec.fields[*retention_col]).empty()) {
      t.comments.push_back("retention of " + pattern + ": " + safe_text(trim(rec.fields[*retention_col]), 60));
    }
  }
  // Syntax problems were found while reading, row problems after: report them all in line order.
  std::stable_sort(result.problems.begin(), result.problems.end(),
                   [](const ImportProblem& a, const ImportProblem& b) { return a.line < b.line; });
  if (problems.has_errors()) return result;
  for (auto& [key, t] : by_platform) {
    sort_unique(t.comments);
    result.trackers.push_back(std::move(t));
  }
  finish(result);
  if (options.licence.empty()) {
    result.header.push_back(
        "licence: Apache-2.0. This product includes data from the Open Cookie Database (Apache License 2.0).");
  }
  if (result.trackers.empty()) problems.error(0, 0, "", "no cookie in a mapped category");
  return result;
}

// ---------------------------------------------------------------------------------------- hosts / ABP
namespace {

bool looks_like_ip(std::string_view token) {
  if (token.find(':') != std::string_view::npos) return true;  // IPv6: "::1", "fe80::1%lo0"
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool is_domain_char(char c) { return is_ascii_alnum(c) || c == '.' || c == '-' || c == '_'; }

// The metadata lines of ABP and hosts lists worth keeping as provenance.
void keep_metadata(std::string_view comment, std::map<std::string, std::string>& meta) {
  comment = trim(comment);
  for (std::string_view key : {"Title", "Version", "License", "Licence", "Homepage", "Last modified", "Expires"}) {
    if (comment.size() > key.size() && comment.substr(0, key.size()) == key && comment[key.size()] == ':') {
      meta.emplace(std::string(key == "Licence" ? "License" : key), safe_text(trim(comment.substr(key.size() + 1))));
    }
  }
}

}  // namespace

ImportResult import_host_list(std::string_view text, const ImportOptions& options) {
  ImportResult result;
  Problems problems(result, options.file);
  if (options.purpose.empty()) {
    problems.error(0, 0, "", "a host list has no categories: give the purpose of its domains (--purpose)");
    return result;
  }
  if (text.size() > max_import_bytes) {
    problems.error(0, 0, "", "larger than " + std::to_string(max_import_bytes) + " bytes");
    return result;
  }
  std::vector<std::string> domains;
  std::map<std::string, std::string> meta;
  bool abp = false;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  while (pos < text.size()) {
    ++line_no;
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_import_line_bytes) {
      problems.warning(line_no, 0, "", "line longer than " + std::to_string(max_import_line_bytes) + " bytes; skipped");
      continue;
    }
    if (auto bad = std::find_if(line.begin(), line.end(),
                                [](char c) {
                                  const auto u = static_cast<unsigned char>(c);
                                  return (u < 0x20 && c != '\t') || u == 0x7F;
                                });
        bad != line.end()) {
      problems.warning(line_no, static_cast<std::size_t>(bad - line.begin()) + 1, "",
                       "control character: not a line of text; skipped");
      continue;
    }
    const auto first_text = line.find_first_not_of(" \t");
    const std::size_t indent = first_text == std::string_view::npos ? 0 : first_text;
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '!') {
      abp = true;
      keep_metadata(line.substr(1), meta);
      continue;
    }
    if (line.front() == '[') {  // "[Adblock Plus 2.0]"
      abp = true;
      continue;
    }
    if (line.front() == '#' && line.find("##") == std::string_view::npos &&
        line.find("#@#") == std::string_view::npos && line.find("#?#") == std::string_view::npos) {
      keep_metadata(line.substr(1), meta);
      continue;
    }
    if (line.substr(0, 2) == "@@") {
      ++result.skipped["exception rule"];
      continue;
    }
    if (line.find("##") != std::string_view::npos || line.find("#@#") != std::string_view::npos ||
        line.find("#?#") != std::string_view::npos || line.find("#$#") != std::string_view::npos) {
      ++result.skipped["cosmetic rule"];
      continue;
    }
    std::string_view token;
    std::size_t token_col = indent + 1;
    if (line.substr(0, 2) == "||") {
      abp = true;
      std::size_t k = 2;
      while (k < line.size() && is_domain_char(line[k])) ++k;
      token = line.substr(2, k - 2);
      token_col = indent + 3;
      const auto rest = line.substr(k);
      if (rest.empty() || rest.front() != '^') {
        ++result.skipped[rest.empty() || rest.front() == '/' || rest.front() == '*' ? "rule with a path or no ^"
                                                                                    : "not a domain-only rule"];
        continue;
      }
      auto after = rest.substr(1);
      if (!after.empty() && after.front() == '|') after.remove_prefix(1);
      if (!after.empty()) {
        if (after.front() != '$') {
          ++result.skipped["rule with a path or no ^"];
          continue;
        }
        bool domain_only = true;
        auto opts = after.substr(1);
        while (!opts.empty()) {
          const auto comma = opts.find(',');
          const auto opt = opts.substr(0, comma);
          if (std::find(domain_only_options.begin(), domain_only_options.end(), opt) == domain_only_options.end()) {
            domain_only = false;
          }
          if (comma == std::string_view::npos) break;
          opts.remove_prefix(comma + 1);
        }
        if (!domain_only) {
          ++result.skipped["rule with options beyond $third-party"];
          continue;
        }
      }
    } else if (abp) {
      // In ABP syntax a bare "-didomi.js" or "example.com" is a URL substring, not a host.
      ++result.skipped["not a domain-only rule"];
      continue;
    } else {
      // hosts "0.0.0.0 a.example b.example # comment", or one domain per line.
      if (const auto hash = line.find('#'); hash != std::string_view::npos) line = trim(line.substr(0, hash));
      std::vector<std::pair<std::string_view, std::size_t>> tokens;
      for (std::size_t k = 0; k < line.size();) {
        while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
        const std::size_t start = k;
        while (k < line.size() && line[k] != ' ' && line[k] != '\t') ++k;
        if (k > start) tokens.emplace_back(line.substr(start, k - start), indent + start + 1);
      }
      if (tokens.empty()) continue;
      std::size_t first = 0;
      if (looks_like_ip(tokens[0].first)) {
        first = 1;
        if (tokens.size() == 1) {
          problems.warning(line_no, tokens[0].second, "", "an address without a host name; skipped");
          continue;
        }
      } else if (tokens.size() > 1) {
        problems.warning(line_no, tokens[0].second, "",
                         "not a hosts line (ADDRESS NAME...), a domain or a ||domain^ rule; skipped");
        continue;
      }
      for (std::size_t t = first; t < tokens.size(); ++t) {
        const auto [name, col] = tokens[t];
        if (std::find(local_host_names.begin(), local_host_names.end(), lower(name)) != local_host_names.end()) {
          ++result.skipped["local host name"];
          continue;
        }
        if (!std::all_of(name.begin(), name.end(), is_domain_char)) {
          problems.warning(line_no, col, "", quote(safe_text(name)) + " is not a domain; skipped");
          continue;
        }
        auto checked = check_domain(name);
        if (!checked.error.empty()) {
          problems.warning(line_no, col, "", checked.error + "; skipped");
          continue;
        }
        domains.push_back(std::move(checked.domain));
      }
      continue;
    }
    auto checked = check_domain(token);
    if (!checked.error.empty()) {
      problems.warning(line_no, token_col, "", checked.error + "; skipped");
      continue;
    }
    domains.push_back(std::move(checked.domain));
  }
  if (domains.empty()) {
    problems.error(0, 0, "", "no domain found: expected a hosts file, one domain per line, or ||domain^ rules");
    return result;
  }
  ImportedTracker t;
  const std::string stem = [&] {
    std::string_view f = options.file;
    if (const auto slash = f.find_last_of('/'); slash != std::string_view::npos) f.remove_prefix(slash + 1);
    if (const auto dot = f.find('.'); dot != std::string_view::npos && dot > 0) f = f.substr(0, dot);
    return std::string(f);
  }();
  t.id = options.id.empty() ? "import-" + slug(stem) : options.id;
  t.purpose = options.purpose;
  std::string title = meta.count("Title") != 0 ? meta["Title"] : safe_text(stem);
  if (meta.count("Version") != 0) title += ", version " + meta["Version"];
  t.source = options.source.empty() ? "list " + title : safe_text(options.source);
  t.note = (abp ? "domain-only rules of " : "hosts of ") + title;
  t.domains = std::move(domains);
  result.trackers.push_back(std::move(t));
  finish(result);
  if (options.licence.empty()) {
    if (meta.count("License") != 0) {
      result.header.push_back("licence (as declared by the list): " + meta["License"]);
    } else {
      result.header.push_back("licence: not declared by the list; check it before you redistribute this file");
    }
  }
  if (meta.count("Homepage") != 0) result.header.push_back("homepage: " + meta["Homepage"]);
  return result;
}

// ------------------------------------------------------------------------------------------ PackIndex
namespace {

bool glob_match(std::string_view glob, std::string_view name) {
  std::size_t g = 0;
  std::size_t n = 0;
  std::size_t star = std::string_view::npos;
  std::size_t mark = 0;
  while (n < name.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = n;
    } else if (g < glob.size() && glob[g] == name[n]) {
      ++g;
      ++n;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

}  // namespace

void PackIndex::add(const policy::Document& doc) {
  for (const auto& rule : doc.trackers) {
    for (const auto& d : rule.domains) {
      if (policy::domain_pattern_error(d.value)) continue;
      auto c = policy::canonical_domain_pattern(d.value);
      if (c.rfind("*.", 0) == 0) {
        wildcard_domains_.insert(c.substr(2));
      } else {
        domains_.insert(std::move(c));
      }
    }
    for (const auto& c : rule.cookies) {
      cookies_.insert(c.value);
      if (c.value.find('*') != std::string::npos) cookie_globs_.push_back(c.value);
    }
  }
}

bool PackIndex::covers_domain(std::string_view domain) const {
  if (domains_.count(std::string(domain)) != 0) return true;
  for (auto dot = domain.find('.'); dot != std::string_view::npos; dot = domain.find('.', dot + 1)) {
    const std::string parent(domain.substr(dot + 1));
    if (domains_.count(parent) != 0 || wildcard_domains_.count(parent) != 0) return true;
  }
  return false;
}

bool PackIndex::covers_cookie(std::string_view pattern) const {
  if (cookies_.count(std::string(pattern)) != 0) return true;
  if (pattern.find('*') != std::string_view::npos) return false;
  return std::any_of(cookie_globs_.begin(), cookie_globs_.end(),
                     [&](const std::string& g) { return glob_match(g, pattern); });
}

std::size_t remove_covered(ImportResult& result, const PackIndex& pack) {
  std::size_t removed = 0;
  for (auto& t : result.trackers) {
    removed += std::erase_if(t.domains, [&](const std::string& d) { return pack.covers_domain(d); });
    removed += std::erase_if(t.cookies, [&](const std::string& c) { return pack.covers_cookie(c); });
    std::erase_if(t.comments, [&](const std::string& line) {
      // "retention of NAME: ..." lines follow their cookie out.
      const auto colon = line.find(": ");
      if (line.rfind("retention of ", 0) != 0 || colon == std::string::npos) return false;
      const auto name = line.substr(13, colon - 13);
      return std::find(t.cookies.begin(), t.cookies.end(), name) == t.cookies.end();
    });
  }
  std::erase_if(result.trackers,
                [](const ImportedTracker& t) { return t.domains.empty() && t.cookies.empty() && t.urls.empty(); });
  if (removed != 0) result.skipped["already in the pack (--against)"] += removed;
  return removed;
}

// ------------------------------------------------------------------------------------------------ YAML
namespace {

std::string yaml_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

void flow_list(std::string& out, std::string_view key, const std::vector<std::string>& items) {
  if (items.empty()) return;
  std::string line = "    " + std::string(key) + ": [";
  bool first = true;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string tok = yaml_quote(items[i]) + (i + 1 < items.size() ? "," : "]");
    if (!first && line.size() + 1 + tok.size() > 120) {
      out += line + "\n";
      line = "      " + tok;
    } else {
      line += (first ? "" : " ") + tok;
    }
    first = false;
  }
  out += line + "\n";
}

}  // namespace

std::string to_policy_yaml(const ImportResult& result, const std::vector<std::string>& header) {
  std::string out;
  for (const auto& h : header) out += "# " + safe_text(h, 1000) + "\n";
  for (const auto& h : result.header) out += "# " + safe_text(h, 1000) + "\n";
  if (result.trackers.empty()) return out + "\ntrackers: []\n";
  out += "\ntrackers:\n";
  for (const auto& t : result.trackers) {
    out += "  - id: " + t.id + "\n";
    out += "    purpose: " + yaml_quote(t.purpose) + "\n";
    if (!t.note.empty()) out += "    # " + safe_text(t.note, 300) + "\n";
    for (const auto& c : t.comments) out += "    # " + safe_text(c, 300) + "\n";
    out += "    source: " + yaml_quote(safe_text(t.source, 300)) + "\n";
    flow_list(out, "domains", t.domains);
    flow_list(out, "cookies", t.cookies);
    flow_list(out, "urls", t.urls);
  }
  return out;
}

}  // namespace consent::config
