# The Debian package of the crashctl server (`make deb`: cpack -G DEB).
#
# Contents: /usr/bin/crashctl (component `server`, installed in
# cmd/CMakeLists.txt), and the Debian-only files of component `debian`:
# /etc/crashctl/crashctl.yaml (a conffile), the systemd unit
# /lib/systemd/system/crashctl.service, the manual page and
# /usr/share/doc/crashctl. Maintainer scripts (deploy/debian/postinst,
# prerm, postrm) add the crashctl system user and enable the unit.
#
# The package holds exactly those two components, so install rules added
# elsewhere (the SDK's headers and libraries, say) stay out of it unless they
# name one of them; give them their own COMPONENT (and, for a package of
# their own, CPACK_DEB_COMPONENT_INSTALL grouping). The `debian` component is
# EXCLUDE_FROM_ALL: a plain `cmake --install` does not write /etc or /lib.
#
# Depends comes from dpkg-shlibdeps (dpkg-dev) for the libraries the binary
# links, plus adduser for the postinst. Tests: tests/deploy/deb_test.sh.

set(CRASHCTL_LICENSE "NOASSERTION" CACHE STRING
    "SPDX licence expression of crashctl (package copyright, image label)")
set(CRASHCTL_PACKAGE_MAINTAINER
    "crashctl maintainers <maintainers@crashctl.invalid>" CACHE STRING
    "Maintainer field of the Debian package")

# cpack runs the `preinstall` target first, which with the Makefile
# generator builds `all` (every test, five minutes on two cores) unless this
# is set; `make deb` builds just the crashctl target before cpack. (So a
# plain `make install` no longer builds first either.)
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CRASHCTL_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CRASHCTL_DEB_VERSION "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CRASHCTL_PACKAGE_MAINTAINER}")

# The changelog's date (and the copyright year) is the last commit's
# (SOURCE_DATE_EPOCH if set), so the same tree gives the same files.
if(NOT DEFINED ENV{SOURCE_DATE_EPOCH})
  execute_process(COMMAND git log -1 --format=%ct
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                  OUTPUT_VARIABLE _crashctl_epoch
                  OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _crashctl_git_rc ERROR_QUIET)
  if(_crashctl_git_rc EQUAL 0 AND _crashctl_epoch MATCHES "^[0-9]+$")
    set(ENV{SOURCE_DATE_EPOCH} ${_crashctl_epoch})
    set(_crashctl_unset_epoch ON)
  endif()
endif()
string(TIMESTAMP CRASHCTL_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
string(TIMESTAMP CRASHCTL_COPYRIGHT_YEAR "%Y" UTC)
if(_crashctl_unset_epoch)
  unset(ENV{SOURCE_DATE_EPOCH})
endif()

# Files made at configure time: the manual page and the changelog
# compressed as Debian wants them (gzip -9n: no name, no timestamp).
set(_pkg_dir ${CMAKE_BINARY_DIR}/packaging)
set(_deb_src ${CMAKE_SOURCE_DIR}/deploy/debian)
configure_file(${_deb_src}/crashctl.1 ${_pkg_dir}/crashctl.1 @ONLY)
configure_file(${_deb_src}/changelog ${_pkg_dir}/changelog.Debian @ONLY)
configure_file(${_deb_src}/copyright ${_pkg_dir}/copyright @ONLY)
find_program(CRASHCTL_GZIP gzip REQUIRED)
foreach(_file crashctl.1 changelog.Debian)
  execute_process(COMMAND ${CRASHCTL_GZIP} -9nkf ${_pkg_dir}/${_file}
                  RESULT_VARIABLE _gzip_rc)
  if(NOT _gzip_rc EQUAL 0)
    message(FATAL_ERROR "gzip ${_pkg_dir}/${_file} failed")
  endif()
endforeach()

# Debian's paths; the package's prefix is /usr (CPACK_PACKAGING_INSTALL_PREFIX).
install(FILES ${_deb_src}/crashctl.yaml DESTINATION /etc/crashctl
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        COMPONENT debian EXCLUDE_FROM_ALL)
install(FILES ${_deb_src}/crashctl.service DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        COMPONENT debian EXCLUDE_FROM_ALL)
install(FILES ${_pkg_dir}/crashctl.1.gz DESTINATION share/man/man1
        COMPONENT debian EXCLUDE_FROM_ALL)
# Not meant for Debian's archive: no ITP bug to close (README in the file).
install(FILES ${_deb_src}/lintian-overrides DESTINATION share/lintian/overrides
        RENAME crashctl COMPONENT debian EXCLUDE_FROM_ALL)
install(FILES ${_pkg_dir}/copyright ${_pkg_dir}/changelog.Debian.gz
              ${CMAKE_SOURCE_DIR}/docs/configuration.md
              ${CMAKE_SOURCE_DIR}/docs/deployment.md
        DESTINATION share/doc/crashctl
        COMPONENT debian EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME crashctl)
set(CPACK_PACKAGE_VENDOR "crashctl")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "self-hosted crash and error tracker for Sentry SDKs")
set(CPACK_PACKAGE_DESCRIPTION
    "crashctl receives error events from any Sentry SDK (it speaks the Sentry
ingestion protocol), groups them into issues, records the Kubernetes pod
crashes no SDK can see (OOM kills, crash loops, evictions), supervises
processes out of process (crashctl run) and exports Prometheus metrics.
It keeps its data in one SQLite database.

This package runs the server as the systemd service crashctl.service,
as the unprivileged crashctl user, with its data in /var/lib/crashctl and
its configuration in /etc/crashctl/crashctl.yaml. It listens on
127.0.0.1:9190 (plain HTTP) until configured otherwise; put a TLS proxy in
front of it.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server debian)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_PACKAGE_NAME crashctl)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_deb_src}/postinst ${_deb_src}/prerm ${_deb_src}/postrm
    ${_deb_src}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
