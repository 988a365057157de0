add_executable(proxy_support_tests ${CMAKE_CURRENT_LIST_DIR}/support_placeholder_test.cpp)
target_link_libraries(proxy_support_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
target_compile_definitions(proxy_support_tests PRIVATE CONSENT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  CONSENTGATE_BINARY="$<TARGET_FILE:consentgate>")
catch_discover_tests(proxy_support_tests TEST_PREFIX "proxy.support." PROPERTIES LABELS proxy)
