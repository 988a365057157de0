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


# End to end through the real binary: a website origin, consentgate in gateway mode, curl and raw clients.
add_executable(proxy_gateway_integration_tests
  ${CMAKE_CURRENT_LIST_DIR}/core_test_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_test_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway_integration_test.cpp
)
# Debian's cpp-httplib is a compiled library (its pkg-config adds CPPHTTPLIB_OPENSSL_SUPPORT: the HTTPS origin).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(proxy_gateway_integration_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain
  PkgConfig::HTTPLIB Threads::Threads)
target_compile_definitions(proxy_gateway_integration_tests PRIVATE CONSENT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  CONSENTGATE_BINARY="$<TARGET_FILE:consentgate>")
catch_discover_tests(proxy_gateway_integration_tests TEST_PREFIX "proxy.gateway." PROPERTIES LABELS proxy)
add_dependencies(proxy_gateway_integration_tests consentgate)
