# Install rules of the crashctl SDK, all in component `sdk`
# (`cmake --install build --component sdk`): crashctl/sdk.h,
# libcrashctl_sdk.a, libcrashctl_sdk.so*, the CMake package crashctl_sdk and
# crashctl_sdk.pc. Included by sdk/CMakeLists.txt. The Debian package of the
# server leaves this component out (cmake/packaging.cmake, CPACK_COMPONENTS_ALL).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(_sdk_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/crashctl_sdk)
set(_sdk_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/include/crashctl/sdk.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/crashctl COMPONENT sdk)
# Two export sets: the shared library needs nothing of its consumers but
# threads; the static one also needs its private dependencies, which the
# package's config file looks for before it loads the static target.
install(TARGETS crashctl_sdk_shared EXPORT crashctl_sdk_shared
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk
                NAMELINK_COMPONENT sdk)
install(TARGETS crashctl_sdk EXPORT crashctl_sdk_static
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk)
install(EXPORT crashctl_sdk_shared NAMESPACE crashctl::
        FILE crashctl_sdk-shared-targets.cmake
        DESTINATION ${_sdk_cmake_dir} COMPONENT sdk)
install(EXPORT crashctl_sdk_static NAMESPACE crashctl::
        FILE crashctl_sdk-static-targets.cmake
        DESTINATION ${_sdk_cmake_dir} COMPONENT sdk)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/crashctl_sdkConfig.cmake.in
               ${CMAKE_CURRENT_BINARY_DIR}/crashctl_sdkConfig.cmake @ONLY)
# 0.x: a minor version may break the API, so only the same minor matches.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_sdk_compat SameMinorVersion)
else()
  set(_sdk_compat SameMajorVersion)
endif()
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/crashctl_sdkConfigVersion.cmake
  VERSION ${CRASHCTL_SDK_VERSION} COMPATIBILITY ${_sdk_compat})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/crashctl_sdkConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/crashctl_sdkConfigVersion.cmake
        DESTINATION ${_sdk_cmake_dir} COMPONENT sdk)

# The .pc finds the prefix from where it lies (${pcfiledir}), so the
# installed tree can be moved (cmake --install --prefix DIR).
file(RELATIVE_PATH _sdk_pc_to_prefix /prefix/${_sdk_pc_dir} /prefix)
string(REGEX REPLACE "/$" "" _sdk_pc_to_prefix "${_sdk_pc_to_prefix}")
set(CRASHCTL_SDK_PC_PREFIX "\${pcfiledir}/${_sdk_pc_to_prefix}")
set(CRASHCTL_SDK_PC_DL "")
foreach(_lib ${CMAKE_DL_LIBS})
  string(APPEND CRASHCTL_SDK_PC_DL " -l${_lib}")
endforeach()
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/crashctl_sdk.pc.in
               ${CMAKE_CURRENT_BINARY_DIR}/crashctl_sdk.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/crashctl_sdk.pc
        DESTINATION ${_sdk_pc_dir} COMPONENT sdk)
