#pragma once
// The consent policy engine: built once from a Document, immutable, shared as
// std::shared_ptr<const Engine> across threads. Every member function is const and thread-safe.
// Views returned (rule ids, reasons, purpose ids) point into the Engine and live as long as it does.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/consent.hpp"
#include "policy/decision.hpp"
#include "policy/diagnostic.hpp"
#include "policy/document.hpp"
#include "policy/request.hpp"

namespace consent::policy {

class Engine;

struct BuildResult {
  std::shared_ptr<const Engine> engine;  // null when diagnostics is non-empty
  std::vector<Diagnostic> diagnostics;   // every problem found, not only the first
};

struct EngineSummary {
  std::size_t purposes = 0;
  std::size_t trackers = 0;
  std::size_t domains = 0;
  std::size_t cookie_patterns = 0;
  std::size_t url_patterns = 0;
};

class Engine {
 public:
  // Validates meaning (unknown purposes, duplicate ids, bad domain/cookie/RE2 patterns, too many purposes)
  // and compiles the matchers. Never throws for bad input; std::bad_alloc may escape.
  static BuildResult build(const Document& doc);

  // Reads eu-consent / TCF / CMP cookies from a raw Cookie header and applies Sec-GPC and the user's
  // override. `now` is epoch seconds (the caller owns the clock).
  [[nodiscard]] ConsentState read_consent(const ConsentInputs& in) const noexcept;

  // The request decision: allow, block (with surrogate) or strip_cookies (then call filter_cookie_header).
  // Semantics: the comment at the top of policy/engine.cpp. Allocates nothing unless the URL passes the
  // URL patterns' literal pre-filter (RE2 then reports which patterns match through a vector); RE2's DFA
  // cache is bounded by max_mem.
  [[nodiscard]] Decision decide(const Request& request) const noexcept;

  // Removes from a Cookie header the cookies whose purpose is not granted for this request. Call it for
  // every request forwarded with a Cookie header, not only on strip_cookies: a first-party page request is
  // allowed (no_rule) yet must not carry, say, a refused "_ga". Cheap when nothing is removed: changed is
  // false and no header is built.
  [[nodiscard]] CookieHeaderResult filter_cookie_header(const Request& request, std::string_view cookie_header) const;

  // Judges one Set-Cookie header value of the response to `request`: keep, drop, or cap its lifetime.
  // An unparseable value is dropped (reason set_cookie_invalid).
  [[nodiscard]] SetCookieResult filter_set_cookie(const Request& request, std::string_view set_cookie_value,
                                                  std::int64_t now) const;

  // Purposes.
  [[nodiscard]] std::size_t purpose_count() const noexcept;
  [[nodiscard]] PurposeIndex find_purpose(std::string_view id_or_alias) const noexcept;  // no_purpose if unknown
  [[nodiscard]] std::string_view purpose_id(PurposeIndex p) const noexcept;              // "" for no_purpose
  [[nodiscard]] std::string_view purpose_label(PurposeIndex p) const noexcept;
  [[nodiscard]] Exemption purpose_exemption(PurposeIndex p) const noexcept;
  [[nodiscard]] PurposeSet exempt_purposes() const noexcept;  // Exemption::always only

  // The tracker domains (as configured) of the given purposes: the gateway's CSP allow-list (issue 6).
  [[nodiscard]] std::vector<std::string_view> domains_for(PurposeSet purposes) const;

  // Where the tracker owning `rule_id` ("<tracker>/domains[i]") comes from (TrackerRule::source); empty
  // when unstated or not a tracker rule. For explanations, not for the request path.
  [[nodiscard]] std::string_view rule_source(std::string_view rule_id) const noexcept;

  // A stable hash of the Document's meaning (16 lower-case hex digits), written into every decision log line.
  [[nodiscard]] std::string_view policy_hash() const noexcept;
  [[nodiscard]] EngineSummary summary() const noexcept;
  [[nodiscard]] const Document& document() const noexcept;

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace consent::policy
