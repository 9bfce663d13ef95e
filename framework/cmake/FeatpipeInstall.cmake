# featpipe as a package, included by the top-level CMakeLists.txt once every
# target exists:
#   - the build tree is a CMake package (find_package(featpipe) with
#     featpipe_DIR=<build dir>): it mirrors the install tree, plugins included;
#   - with FEATPIPE_INSTALL, the install rules: headers, engine, CLI, plot
#     module, a CMake package and a pkg-config file (featpipe.pc), and under
#     share/featpipe the shipped pipelines and docs. The plugins
#     install themselves (FeatpipePlugin.cmake, plugins/CMakeLists.txt).
include(CMakePackageConfigHelpers)
set(featpipe_cmake ${CMAKE_CURRENT_LIST_DIR})
# PATH_VARS: relative to the package's prefix (the build dir or the install prefix).
set(FEATPIPE_PLUGIN_DIR ${FEATPIPE_PLUGIN_SUBDIR})

write_basic_package_version_file(${PROJECT_BINARY_DIR}/featpipeConfigVersion.cmake COMPATIBILITY SameMajorVersion)

export(TARGETS featpipe_sdk featpipe NAMESPACE featpipe:: FILE ${PROJECT_BINARY_DIR}/featpipeTargets.cmake)
configure_file(${featpipe_cmake}/FeatpipePlugin.cmake ${PROJECT_BINARY_DIR}/FeatpipePlugin.cmake COPYONLY)
configure_package_config_file(${featpipe_cmake}/featpipeConfig.cmake.in ${PROJECT_BINARY_DIR}/featpipeConfig.cmake
  INSTALL_DESTINATION ${PROJECT_BINARY_DIR} INSTALL_PREFIX ${PROJECT_BINARY_DIR} PATH_VARS FEATPIPE_PLUGIN_DIR)

if(NOT FEATPIPE_INSTALL)
  return()
endif()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/framework/include/featpipe DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        PATTERN "*.in" EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/include/featpipe/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/featpipe)
install(TARGETS featpipe_sdk featpipe EXPORT featpipeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS featpipe_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS featpipe_plot LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/featpipe)

set(cfgdir ${CMAKE_INSTALL_LIBDIR}/cmake/featpipe)
install(EXPORT featpipeTargets NAMESPACE featpipe:: DESTINATION ${cfgdir})
configure_package_config_file(${featpipe_cmake}/featpipeConfig.cmake.in ${PROJECT_BINARY_DIR}/install/featpipeConfig.cmake
  INSTALL_DESTINATION ${cfgdir} PATH_VARS FEATPIPE_PLUGIN_DIR)
install(FILES ${PROJECT_BINARY_DIR}/install/featpipeConfig.cmake ${PROJECT_BINARY_DIR}/featpipeConfigVersion.cmake
  ${featpipe_cmake}/FeatpipePlugin.cmake DESTINATION ${cfgdir})

# pkg-config: paths relative to the .pc file's own folder, so that the
# package still works after `cmake --install --prefix` elsewhere or a move.
set(pcdir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
foreach(var LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${var}}")
    set(FEATPIPE_PC_${var} "${CMAKE_INSTALL_${var}}")
  else()
    file(RELATIVE_PATH rel /prefix/${pcdir} /prefix/${CMAKE_INSTALL_${var}})
    string(REGEX REPLACE "/$" "" rel "${rel}")
    set(FEATPIPE_PC_${var} "\${pcfiledir}/${rel}")
  endif()
endforeach()
configure_file(${featpipe_cmake}/featpipe.pc.in ${PROJECT_BINARY_DIR}/install/featpipe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/install/featpipe.pc DESTINATION ${pcdir})

# The shipped pipelines and the docs. The image pipelines name their model
# as ../samples/models/digits_cnn.onnx: installed at that place beside them,
# so they validate and run from share/featpipe/pipelines as from the source tree.
set(datadir ${CMAKE_INSTALL_DATADIR}/featpipe)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/pipelines/ DESTINATION ${datadir}/pipelines FILES_MATCHING PATTERN "*.yaml")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${datadir}/docs FILES_MATCHING PATTERN "*.md")
install(FILES ${PROJECT_SOURCE_DIR}/samples/models/digits_cnn.onnx DESTINATION ${datadir}/samples/models)
