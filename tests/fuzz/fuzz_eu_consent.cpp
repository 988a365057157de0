// Fuzzes the eu-consent parser, every CMP parser and read_consent on one input. Beyond "no crash, no
// sanitizer report", it checks the invariants callers rely on: bounded output, determinism, fail-closed
// results that carry a reason, and a consent state that grants only what the signal could grant.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/cmp_consent.hpp"
#include "policy/consent.hpp"
#include "policy/eu_consent.hpp"

namespace {

using namespace consent::policy;

void require(bool condition) {
  if (!condition) std::abort();
}

const ConsentConfig& fuzz_config() {
  static const ConsentConfig config = [] {
    Document doc;
    for (const char* id : {"strictly-necessary", "audience-measurement", "advertising", "social-media"}) {
      PurposeDef p;
      p.id = id;
      p.exemption = p.id == "strictly-necessary" ? Exemption::always : Exemption::none;
      doc.purposes.push_back(p);
    }
    doc.consent.tcf.push_back({{"advertising", {}}, {1, 3, 4}, {}, {}});
    doc.consent.gpc_refuses.push_back({"advertising", {}});
    CmpSource cmp;
    cmp.cookie = "klaro";
    cmp.format = "klaro";
    cmp.categories.emplace("a", Located{"advertising", {}});
    doc.consent.cmp.push_back(cmp);
    std::vector<Diagnostic> diagnostics;
    return compile_consent(doc, diagnostics);
  }();
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's byte API

  const EuConsent a = parse_eu_consent(input);
  const EuConsent b = parse_eu_consent(input);
  require(a.status == b.status && a.purposes == b.purposes && a.timestamp == b.timestamp && a.version == b.version);
  require(a.purposes.size() <= max_eu_consent_entries);
  require(a.ok() == a.reason.empty());
  if (!a.ok()) require(a.purposes.empty() && !a.timestamp && !a.version);

  for (const auto format : {CmpFormat::tarteaucitron, CmpFormat::didomi, CmpFormat::onetrust, CmpFormat::cookiebot,
                            CmpFormat::axeptio, CmpFormat::klaro}) {
    const CmpConsent c = parse_cmp_consent(format, input);
    require(c.choices.size() <= max_cmp_choices);
    if (c.status == CmpStatus::ok) require(c.reason.empty());
    if (c.status == CmpStatus::malformed) require(c.choices.empty() && !c.reason.empty());
    for (std::size_t i = 1; i < c.choices.size(); ++i) require(c.choices[i - 1].first < c.choices[i].first);
  }

  const ConsentConfig& config = fuzz_config();
  const std::string header = "eu-consent=" + std::string(input) + "; klaro=" + std::string(input);
  for (const std::string_view h : {std::string_view(header), input}) {
    const ConsentInputs in{h, "1", 1'800'000'000};
    const ConsentState s = read_consent(config, in);
    require(explain_consent(config, in).state == s);
    require((s.granted & ~config.needs_consent).empty());
    require(!s.granted.contains(2));  // advertising: refused by GPC whatever the cookie says
    if (s.status != ConsentStatus::valid) require(s.granted.empty());
  }
  return 0;
}
