# ASan + UBSan for the whole build (our code and llhttp): the test command turns this on.
if(CONSENT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
