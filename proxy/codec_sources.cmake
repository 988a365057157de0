set(CONSENT_PROXY_CODEC_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/http_error.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_headers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_writer.cpp
)
