# Owner: gateway (issue 6). Gateway unit tests (pure parts, hand-built exchanges) and integration tests.
add_executable(proxy_gateway_tests
  ${CMAKE_CURRENT_LIST_DIR}/gateway_routes_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_headers_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_csp_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_consent_record_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_exchange_test.cpp
)
target_link_libraries(proxy_gateway_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
target_compile_definitions(proxy_gateway_tests PRIVATE CONSENT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
catch_discover_tests(proxy_gateway_tests TEST_PREFIX "proxy.gateway." PROPERTIES LABELS proxy)

