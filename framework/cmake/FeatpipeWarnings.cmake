# featpipe_warnings(<target>): the warning flags of featpipe's own code (not
# installed: out-of-tree plugins choose their own). FEATPIPE_WERROR makes
# them errors, for CI.
function(featpipe_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(FEATPIPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
