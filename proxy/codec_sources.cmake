set(CONSENT_PROXY_CODEC_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/http_codec_placeholder.cpp
)
