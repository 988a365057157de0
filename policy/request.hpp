#pragma once
// The facts about one request that policy decides on. The caller (proxy/) extracts and normalises them
// once per exchange; every view must outlive the decide() call that reads it.
#include <cstdint>
#include <string_view>

#include "policy/consent_state.hpp"

namespace consent::policy {

// What the fetch is for, from Sec-Fetch-Dest, else guessed from Accept / the path's extension by the caller.
// It only chooses the surrogate of a block.
enum class FetchDest : std::uint8_t { unknown, document, iframe, script, image, style, xhr, other };

struct Request {
  std::string_view method;
  std::string_view host;            // normalised: lower-case, IDNA A-label, no port, no trailing dot
  std::string_view path_and_query;  // origin-form, starts with '/'
  std::string_view first_party;     // registrable domain of the page the request is made from; empty if unknown
  FetchDest dest = FetchDest::unknown;
  bool is_navigation = false;  // top-level navigation: the host is its own first party
  bool has_referer = false;    // email heuristics: a pixel fetched from a mail client has none
  std::string_view user_agent;
  ConsentState consent;
};

}  // namespace consent::policy
