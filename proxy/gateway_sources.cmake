# Owner: gateway (issue 6).
set(CONSENT_PROXY_GATEWAY_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/gateway.cpp
)
