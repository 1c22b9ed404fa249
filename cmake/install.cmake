# Installation: `cmake --install build --prefix DIR` puts
#   bin/mlc                                   (when the mlc target exists)
#   lib/libmlcrt.so*, lib/libmlcrt.a          (shared and static runtime)
#   include/mlc/*.h                           (mlcrt.h, model_abi.h)
#   lib/cmake/mlc/mlc{Config,ConfigVersion,Targets,ToolTargets}.cmake
#       find_package(mlc) -> mlc::mlcrt, mlc::mlcrt_static, mlc::mlc,
#       MLC_EXECUTABLE
#   lib/pkgconfig/mlcrt.pc                    (pkg-config --libs mlcrt)
#   share/mlc/python/mlc/*.py                 (the Python package, component
#                                             "python"; python/CMakeLists.txt,
#                                             MLC_PYTHON_INSTALL_DIR)
# Both package files are relocatable: they find the prefix from their own
# location, so the prefix given at install time is the one they use.
include(CMakePackageConfigHelpers)

set(MLC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mlc)

# Two components: "runtime" (libmlcrt, headers, package files: all a
# deployment needs) and "compiler" (the mlc executable, with its own export
# file that mlcConfig.cmake includes when present), so
# `cmake --install build --component runtime` works without the compiler.
install(TARGETS mlcrt mlcrt_static EXPORT mlcTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT mlcTargets NAMESPACE mlc:: DESTINATION ${MLC_CMAKE_DIR}
        COMPONENT runtime)
if(TARGET mlc)
  install(TARGETS mlc EXPORT mlcToolTargets
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT compiler)
  install(EXPORT mlcToolTargets NAMESPACE mlc:: DESTINATION ${MLC_CMAKE_DIR}
          COMPONENT compiler)
endif()

file(GLOB mlc_public_headers ${PROJECT_SOURCE_DIR}/include/mlc/*.h)
install(FILES ${mlc_public_headers}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mlc COMPONENT runtime)

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/mlcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/mlcConfig.cmake
  INSTALL_DESTINATION ${MLC_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/mlcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/mlcConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/mlcConfigVersion.cmake
        DESTINATION ${MLC_CMAKE_DIR} COMPONENT runtime)

# pkg-config: the prefix is found relative to the .pc file (${pcfiledir}).
set(mlc_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH mlc_pc_to_prefix /root/${mlc_pc_dir} /root)
string(REGEX REPLACE "/$" "" mlc_pc_to_prefix "${mlc_pc_to_prefix}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/mlcrt.pc.in
               ${PROJECT_BINARY_DIR}/cmake/mlcrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/mlcrt.pc DESTINATION ${mlc_pc_dir}
        COMPONENT runtime)

# The install check: install into a temporary prefix and build consumers
# with find_package(mlc) and pkg-config (skipped in sanitizer builds, whose
# libmlcrt needs the sanitizer runtimes linked into every consumer).
if(MLC_BUILD_TESTS AND NOT MLC_SANITIZE)
  add_test(NAME runtime_install
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/runtime/install/check.sh
                   ${PROJECT_BINARY_DIR})
  set_tests_properties(runtime_install PROPERTIES LABELS "install;runtime")
endif()
