add_executable(proxy_support_tests
  ${CMAKE_CURRENT_LIST_DIR}/support_client_acl_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_connect_to_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_consent_filter_log_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_consent_ledger_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_decision_log_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_first_party_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_local_reply_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_log_vocabulary_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support_proxy_auth_test.cpp
)
target_link_libraries(proxy_support_tests PRIVATE consent::proxy consent::report consent::warnings Catch2::Catch2WithMain)
target_compile_definitions(proxy_support_tests PRIVATE CONSENT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  CONSENTGATE_BINARY="$<TARGET_FILE:consentgate>")
catch_discover_tests(proxy_support_tests TEST_PREFIX "proxy.support." PROPERTIES LABELS proxy)
