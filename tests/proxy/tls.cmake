# Owner: tls (issue 4). Interception integration tests: the real binary, HTTPS test origins with their own
# CA, curl and openssl as clients.
add_executable(proxy_tls_tests
  ${CMAKE_CURRENT_LIST_DIR}/core_test_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tls_test_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tls_interception_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tls_stream_test.cpp)
target_link_libraries(proxy_tls_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
target_compile_definitions(proxy_tls_tests PRIVATE CONSENT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  CONSENTGATE_BINARY="$<TARGET_FILE:consentgate>")
catch_discover_tests(proxy_tls_tests TEST_PREFIX "proxy.tls." PROPERTIES LABELS proxy)
add_dependencies(proxy_tls_tests consentgate)
