# Installation: `cmake --install build --prefix DIR` puts
#   bin/mlc                                   (when the mlc target exists)
#   lib/libmlcrt.so*, lib/libmlcrt.a          (shared and static runtime)
#   include/mlc/*.h                           (mlcrt.h, model_abi.h)
#   lib/cmake/mlc/mlc{Config,ConfigVersion,Targets}.cmake
#       find_package(mlc) -> mlc::mlcrt, mlc::mlcrt_static, mlc::mlc,
#       MLC_EXECUTABLE
#   lib/pkgconfig/mlcrt.pc                    (pkg-config --libs mlcrt)
# Both package files are relocatable: they find the prefix from their own
# location, so the prefix given at install time is the one they use.
include(CMakePackageConfigHelpers)

set(MLC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mlc)

set(mlc_install_targets mlcrt mlcrt_static)
if(TARGET mlc)
  list(APPEND mlc_install_targets mlc)
  set(MLC_HAVE_EXECUTABLE 1)
else()
  set(MLC_HAVE_EXECUTABLE 0)
endif()

install(TARGETS ${mlc_install_targets} EXPORT mlcTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

file(GLOB mlc_public_headers ${PROJECT_SOURCE_DIR}/include/mlc/*.h)
install(FILES ${mlc_public_headers}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mlc)

install(EXPORT mlcTargets NAMESPACE mlc:: DESTINATION ${MLC_CMAKE_DIR})

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
        DESTINATION ${MLC_CMAKE_DIR})

# pkg-config: the prefix is found relative to the .pc file (${pcfiledir}).
set(mlc_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH mlc_pc_to_prefix /root/${mlc_pc_dir} /root)
string(REGEX REPLACE "/$" "" mlc_pc_to_prefix "${mlc_pc_to_prefix}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/mlcrt.pc.in
               ${PROJECT_BINARY_DIR}/cmake/mlcrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/mlcrt.pc DESTINATION ${mlc_pc_dir})

# The install check: install into a temporary prefix and build consumers
# with find_package(mlc) and pkg-config (skipped in sanitizer builds, whose
# libmlcrt needs the sanitizer runtimes linked into every consumer).
if(MLC_BUILD_TESTS AND NOT MLC_SANITIZE)
  add_test(NAME runtime_install
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/runtime/install/check.sh
                   ${PROJECT_BINARY_DIR})
  set_tests_properties(runtime_install PROPERTIES LABELS "install;runtime")
endif()
