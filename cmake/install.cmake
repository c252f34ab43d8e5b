# cmake/install.cmake - what `cmake --install build --prefix P` (and `make install
# PREFIX=P`) puts in place, so that an embedder finds urbac through pkg-config
# (`pkg-config --cflags --libs urbac`) or CMake (`find_package(urbac)`, targets
# urbac::urbac and urbac::store):
#   bin/urbac                                   the command (links the archives)
#   lib/liburbac.so.X.Y.Z, liburbac-store.so.X.Y.Z (sonames .so.X), .so links
#   include/urbac/*.h                           the engine's and the store's headers,
#                                               and the generated version.h
#   lib/pkgconfig/urbac.pc, urbac-store.pc      relocatable (${pcfiledir})
#   lib/cmake/urbac/                            urbacConfig.cmake, its version file,
#                                               the exported targets
#   share/man/man1/urbac.1, urbac-COMMAND.1     the manual, written at build time
#                                               from the CLI's tables (cmake/man.cmake)
#   share/bash-completion/completions/urbac,    shell completion, likewise
#   share/zsh/vendor-completions/_urbac
#   lib/systemd/system/urbac.service            the hardened unit (contrib/systemd),
#   share/doc/urbac/urbac.env                   and its options file, as an example
# The server's header (src/server/serve.h) is not installed: the server is linked
# into the urbac binary only.
#
# Depends on: the targets of ../CMakeLists.txt (urbac, urbac_shared, urbac_store_shared),
# cmake/man.cmake, contrib/systemd.
include(CMakePackageConfigHelpers)
set(URBAC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/urbac)
set(URBAC_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(TARGETS urbac RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The manual and the completion scripts, written by the urbac just built (part of
# the default "all" target; `make` alone builds only urbac).
set(URBAC_SHARE ${CMAKE_BINARY_DIR}/share)
add_custom_command(OUTPUT ${URBAC_SHARE}/stamp
  COMMAND ${CMAKE_COMMAND} -DURBAC=$<TARGET_FILE:urbac> -DOUT=${URBAC_SHARE} -P ${CMAKE_SOURCE_DIR}/cmake/man.cmake
  COMMAND ${CMAKE_COMMAND} -E touch ${URBAC_SHARE}/stamp
  DEPENDS urbac ${CMAKE_SOURCE_DIR}/cmake/man.cmake
  COMMENT "Writing the manual pages and shell completion")
add_custom_target(urbac_docs ALL DEPENDS ${URBAC_SHARE}/stamp)
install(DIRECTORY ${URBAC_SHARE}/man/man1/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${URBAC_SHARE}/bash-completion/completions/urbac
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
install(FILES ${URBAC_SHARE}/zsh/vendor-completions/_urbac
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/zsh/vendor-completions)

# The systemd unit runs the installed binary; the options file is an example (the
# unit reads /etc/urbac/urbac.env when it exists).
# (Debian's package puts it in /lib/systemd/system, where its debhelper looks.)
set(URBAC_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING "Where the systemd unit goes (relative: in the prefix)")
configure_file(${CMAKE_SOURCE_DIR}/contrib/systemd/urbac.service.in ${CMAKE_BINARY_DIR}/urbac.service @ONLY)
# The unit names the binary by where it is installed, which `cmake --install
# --prefix P` says only at install time: the configured path is replaced then.
install(CODE "
  file(READ \"${CMAKE_BINARY_DIR}/urbac.service\" unit)
  if(IS_ABSOLUTE \"${CMAKE_INSTALL_BINDIR}\")
    set(bindir \"${CMAKE_INSTALL_BINDIR}\")
  else()
    set(bindir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  endif()
  string(REPLACE \"${CMAKE_INSTALL_FULL_BINDIR}/urbac \" \"\${bindir}/urbac \" unit \"\${unit}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/urbac.service.installed\" \"\${unit}\")
")
install(FILES ${CMAKE_BINARY_DIR}/urbac.service.installed DESTINATION ${URBAC_SYSTEMD_UNIT_DIR}
        RENAME urbac.service)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/systemd/urbac.env DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(TARGETS urbac_shared urbac_store_shared EXPORT urbacTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The engine's headers are every public header but the store's.
file(GLOB URBAC_ENGINE_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/include/urbac/*.h)
list(REMOVE_ITEM URBAC_ENGINE_HEADERS ${CMAKE_SOURCE_DIR}/include/urbac/store.h)
install(FILES ${URBAC_ENGINE_HEADERS} ${URBAC_GENERATED_INCLUDE}/urbac/version.h
              ${CMAKE_SOURCE_DIR}/include/urbac/store.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/urbac)

# pkg-config files that find their prefix from where they are installed.
file(RELATIVE_PATH URBAC_PC_TO_PREFIX /prefix/${URBAC_PC_DIR} /prefix)
string(REGEX REPLACE "/$" "" URBAC_PC_TO_PREFIX "${URBAC_PC_TO_PREFIX}")
foreach(pc urbac urbac-store)
  configure_file(${CMAKE_SOURCE_DIR}/cmake/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${URBAC_PC_DIR})
endforeach()

install(EXPORT urbacTargets NAMESPACE urbac:: DESTINATION ${URBAC_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/urbacConfig.cmake.in
  ${CMAKE_BINARY_DIR}/urbacConfig.cmake INSTALL_DESTINATION ${URBAC_CMAKE_DIR})
# 0.x: a new minor version may break the API, so only the same minor matches.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/urbacConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/urbacConfig.cmake ${CMAKE_BINARY_DIR}/urbacConfigVersion.cmake
        DESTINATION ${URBAC_CMAKE_DIR})
