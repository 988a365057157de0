# Owner: bench (issue 4). The consentgate.ca page: its replies, and the files checked with openssl.
add_executable(proxy_ca_page_tests ${CMAKE_CURRENT_LIST_DIR}/ca_page_test.cpp)
target_link_libraries(proxy_ca_page_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
catch_discover_tests(proxy_ca_page_tests TEST_PREFIX "proxy.ca_page." PROPERTIES LABELS proxy)
