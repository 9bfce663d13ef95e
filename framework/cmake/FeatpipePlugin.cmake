# featpipe_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>])
# Builds a stage plugin: a MODULE library with one exported C entry symbol.
# In the featpipe tree it lands in lib/featpipe/plugins (where the engine
# looks first) and is installed there; out of tree it is built where the
# caller's project puts modules.
function(featpipe_add_plugin target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE featpipe::sdk ${ARG_LIBRARIES})
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES PREFIX "lib" CXX_VISIBILITY_PRESET hidden
                                             VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED FEATPIPE_PLUGIN_SUBDIR AND PROJECT_NAME STREQUAL "featpipe")
    set_target_properties(${target} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/${FEATPIPE_PLUGIN_SUBDIR})
    if(FEATPIPE_INSTALL)
      install(TARGETS ${target} LIBRARY DESTINATION ${FEATPIPE_PLUGIN_SUBDIR})
    endif()
    set_property(GLOBAL APPEND PROPERTY FEATPIPE_PLUGIN_TARGETS ${target})
  endif()
endfunction()
