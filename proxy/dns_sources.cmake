set(CONSENT_PROXY_DNS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/dns_cname.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dns_judge.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dns_resolver.cpp
)
