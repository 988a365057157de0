#include "proxy/decision_log.hpp"

#include <catch2/catch.hpp>

#include "report/log_record.hpp"

// The decision log (writer) and `consentgate report` (reader) each name the actions; they live in libraries
// that must not depend on each other, so this test is what keeps the two vocabularies the same.
TEST_CASE("every action the decision log writes is one the report reads back", "[proxy]") {
  using consent::proxy::LogAction;
  const LogAction all[] = {LogAction::allow,
                           LogAction::block,
                           LogAction::strip_cookie,
                           LogAction::drop_set_cookie,
                           LogAction::cap_set_cookie,
                           LogAction::would_block,
                           LogAction::would_strip_cookie,
                           LogAction::would_drop_set_cookie,
                           LogAction::would_cap_set_cookie};
  STATIC_REQUIRE(std::size(all) == consent::report::action_count);
  for (const LogAction a : all) {
    const auto name = consent::proxy::to_string(a);
    INFO(name);
    const auto read = consent::report::parse_action(name);
    REQUIRE(read.has_value());
    CHECK(consent::report::to_string(*read) == name);
    CHECK(consent::proxy::to_string(consent::proxy::report_only(a))
              .starts_with(a == LogAction::allow ? "allow" : "would_"));
  }
}
