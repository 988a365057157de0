#include "proxy/log_vocabulary.hpp"

#include <catch2/catch.hpp>
#include <type_traits>

#include "proxy/decision_log.hpp"
#include "report/analyzer.hpp"
#include "report/log_record.hpp"

using consent::proxy::LogAction;
using consent::proxy::ViolationKind;

// The writer and the reader share one vocabulary (proxy/log_vocabulary.hpp): that they agree is a fact
// the compiler checks. What stays a behaviour test is the round trip through a real line.
static_assert(std::is_same_v<consent::report::Action, LogAction>);
static_assert(std::is_same_v<consent::report::ViolationKind, ViolationKind>);
static_assert(consent::report::action_count == consent::proxy::log_action_count);
static_assert(consent::report::kind_count == consent::proxy::violation_kind_count);
static_assert(consent::proxy::parse_log_action("would_cap_set_cookie") == LogAction::would_cap_set_cookie);
static_assert(consent::proxy::enforcing(consent::proxy::report_only(LogAction::block)) == LogAction::block);

TEST_CASE("every action and violation the decision log writes reads back the same", "[proxy]") {
  for (std::size_t i = 0; i < consent::proxy::log_action_count; ++i) {
    const auto action = static_cast<LogAction>(i);
    for (std::size_t k = 0; k <= consent::proxy::violation_kind_count; ++k) {
      consent::proxy::DecisionRecord record;
      record.action = action;
      record.consent = consent::policy::ConsentStatus::valid;
      record.granted = {"advertising"};
      record.max_age_seconds = 400;
      if (k < consent::proxy::violation_kind_count) record.violation = static_cast<ViolationKind>(k);
      auto line = consent::proxy::DecisionLog::format(record, false);
      line.pop_back();  // '\n'
      INFO(line);
      consent::report::LogRecord read;
      REQUIRE_FALSE(consent::report::parse_log_line(line, read));
      CHECK(read.action == action);
      CHECK(read.violation == (record.violation ? to_string(*record.violation) : ""));
      CHECK(consent::report::parse_kind(read.violation) == record.violation);
      CHECK(read.has_granted);
      CHECK(read.max_age == 400);
    }
    CHECK(consent::proxy::is_would(consent::proxy::report_only(action)) == (action != LogAction::allow));
  }
}
