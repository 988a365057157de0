# Owner: bench (issue 4). The page at http://consentgate.ca/ serving the CA and its install instructions.
set(CONSENT_PROXY_CA_PAGE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/ca_page.cpp
)
