# Owner: gateway (issue 6).
set(CONSENT_PROXY_GATEWAY_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/gateway.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_listeners.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_routes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_headers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/csp.cpp
  ${CMAKE_CURRENT_LIST_DIR}/consent_record.cpp
)
