add_executable(proxy_dns_tests
  ${CMAKE_CURRENT_LIST_DIR}/dns_cname_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dns_resolver_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dns_test_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dns_cloaking_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core_test_support.cpp  # the real binary, the test origin, curl
)
target_link_libraries(proxy_dns_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
target_compile_definitions(proxy_dns_tests PRIVATE CONSENT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  CONSENTGATE_BINARY="$<TARGET_FILE:consentgate>")
catch_discover_tests(proxy_dns_tests TEST_PREFIX "proxy.dns." PROPERTIES LABELS proxy)
add_dependencies(proxy_dns_tests consentgate)
