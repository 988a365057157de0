#pragma once
// The analysis behind `consentgate report`: feed decision-log lines in log order, then read the JSON
// summary (schema: docs/report.md, "schema_version": 1). Pure: no files, no clocks; the caller reads.
//
// Memory is bounded by the Limits below, never by the number of lines: per site, hosts and purposes
// past their cap are counted under "(other)", consent events and examples past theirs are counted as
// dropped, and sites past max_sites are counted under the site "(other)". Every cap that was hit is
// reported in the summary's "limits.hit".
#include <array>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/allow_rule.hpp"
#include "report/log_record.hpp"

namespace consent::report {

inline constexpr int schema_version = 1;

// The violation kinds are the proxy's (proxy/log_vocabulary.hpp, shared header-only); docs/report.md says
// how each is read or derived from log lines.
using ViolationKind = proxy::ViolationKind;
inline constexpr std::size_t kind_count = proxy::violation_kind_count;
[[nodiscard]] constexpr std::optional<ViolationKind> parse_kind(std::string_view s) noexcept {
  return proxy::parse_violation_kind(s);
}

// What a classified line counts as.
enum class Outcome : std::uint8_t {
  violation,  // it happened (report-only, would_*, or an allow that breaks a lifetime rule)
  allowed,    // a violation accepted by an --allow rule
  prevented,  // the proxy enforced (block, strip_cookie, drop_set_cookie, cap_set_cookie outside report-only)
};

struct Classification {
  ViolationKind kind;
  Outcome outcome;
  std::size_t allow_rule = 0;  // index into Options::allow when outcome == allowed
};

struct Limits {
  std::size_t max_line_bytes = 64 * 1024;  // longer lines are malformed (line_too_long)
  std::size_t max_sites = 1000;
  std::size_t max_hosts_per_site = 200;
  std::size_t max_purposes_per_site = 64;
  std::size_t max_tracked_purposes = 64;   // distinct purpose ids followed in consent states (one bit each)
  std::size_t max_consent_keys = 100'000;  // (client, site) pairs whose consent is followed
  std::size_t max_consent_events_per_site = 100;
  std::size_t max_examples_per_site = 20;
  std::size_t max_malformed_examples = 20;
  std::size_t max_modes = 8;
  std::size_t activity_buckets = 60;
};

struct Options {
  std::vector<AllowRule> allow;
  Limits limits;
  std::int64_t audience_max_age_seconds = 395LL * 86400;  // 13 months (CNIL), as the policy's caps
  std::int64_t consent_max_age_seconds = 183LL * 86400;   // 6 months (CNIL)
  std::vector<std::string> audience_purposes{"audience-measurement"};
  // A Set-Cookie is a consent cookie when one of its names matches (glob) or its rule id matches (glob).
  std::vector<std::string> consent_cookie_names{"eu-consent", "eu.consent", "euconsent-v2", "eupubconsent-v2"};
  std::vector<std::string> consent_cookie_rules{"consent-choice-cookies/*", "cmp-choice-cookies/*"};
};

class Analyzer {
 public:
  explicit Analyzer(Options options = {});
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Later lines belong to input `name` (a path, or "-" for stdin), for counts and malformed examples.
  void begin_input(std::string name);
  // One line without its '\n'. Empty (or whitespace-only) lines are counted as blank, not malformed.
  void add_line(std::string_view line);
  // A line the reader skipped because it exceeded Limits::max_line_bytes.
  void add_oversized_line();

  // Classifies one record against the current state and updates the state (what add_line does).
  std::optional<Classification> add_record(const LogRecord& r);

  [[nodiscard]] std::uint64_t violations() const noexcept;  // not counting allowed exceptions
  [[nodiscard]] nlohmann::ordered_json summary() const;     // docs/report.md
  // Number of entries held (sites, hosts, purposes, consent states, events, examples): bounded by
  // the Limits whatever the number of lines. For tests.
  [[nodiscard]] std::size_t state_entries() const noexcept;
  [[nodiscard]] const Options& options() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads `in` to its end line by line (LineReader, bounded by limits.max_line_bytes) into `analyzer`
// as input `name`. false when the stream failed (an I/O error, not a malformed line).
bool analyze_stream(Analyzer& analyzer, std::istream& in, std::string name);

}  // namespace consent::report
