# ASan + UBSan for the whole build (our code and llhttp): the test command turns this on. -O1 keeps the
# coroutine-heavy proxy fast enough for integration tests while keeping stack traces usable.
if(CONSENT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1)
  add_link_options(-fsanitize=address,undefined)
endif()
