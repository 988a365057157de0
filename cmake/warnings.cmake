# One INTERFACE target carries our warning flags; link it PRIVATE so third-party code never sees them.
add_library(consent_warnings INTERFACE)
add_library(consent::warnings ALIAS consent_warnings)
target_compile_options(consent_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wold-style-cast -Wnon-virtual-dtor
  $<$<BOOL:${CONSENT_WERROR}>:-Werror>)
