add_executable(proxy_core_tests
  ${CMAKE_CURRENT_LIST_DIR}/core_test_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core_units_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core_filter_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core_proxy_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core_consent_test.cpp)
target_link_libraries(proxy_core_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
target_compile_definitions(proxy_core_tests PRIVATE CONSENT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  CONSENTGATE_BINARY="$<TARGET_FILE:consentgate>")
catch_discover_tests(proxy_core_tests TEST_PREFIX "proxy.core." PROPERTIES LABELS proxy)
add_dependencies(proxy_core_tests consentgate)
