add_executable(proxy_dns_tests ${CMAKE_CURRENT_LIST_DIR}/dns_placeholder_test.cpp)
target_link_libraries(proxy_dns_tests PRIVATE consent::proxy consent::warnings Catch2::Catch2WithMain)
catch_discover_tests(proxy_dns_tests TEST_PREFIX "proxy.dns." PROPERTIES LABELS proxy)
