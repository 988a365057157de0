add_executable(proxy_dns_tests
  ${CMAKE_CURRENT_LIST_DIR}/dns_cname_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dns_resolver_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dns_test_server.cpp
)
target_link_libraries(proxy_dns_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
catch_discover_tests(proxy_dns_tests TEST_PREFIX "proxy.dns." PROPERTIES LABELS proxy)
