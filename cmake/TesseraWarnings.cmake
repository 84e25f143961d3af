# Warnings on, for our own targets only (not for the dependencies' headers).
function(tessera_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
