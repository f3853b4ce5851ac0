# Finds ilgraft's Debian-packaged dependencies through pkg-config. A missing one stops
# the configure step with a single line that names the package to install.
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "ilgraft: pkg-config not found; install it with: apt-get install pkg-config")
endif()
find_package(Threads REQUIRED)

function(ilg_require var module debian_package)
  pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR
      "ilgraft: ${module} not found by pkg-config; install it with: apt-get install ${debian_package}")
  endif()
endfunction()

ilg_require(CAPSTONE capstone libcapstone-dev)
# The CLI dlopens capstone by soname (only `dis --native` needs it): read the soname from
# the library pkg-config found.
find_library(ILG_CAPSTONE_LIBRARY NAMES capstone HINTS ${CAPSTONE_LIBRARY_DIRS})
set(ILG_CAPSTONE_SONAME "")
if(ILG_CAPSTONE_LIBRARY)
  execute_process(COMMAND ${CMAKE_OBJDUMP} -p ${ILG_CAPSTONE_LIBRARY}
                  OUTPUT_VARIABLE ilg_capstone_dyn ERROR_QUIET)
  string(REGEX MATCH "SONAME +([^ \n]+)" ilg_m "${ilg_capstone_dyn}")
  set(ILG_CAPSTONE_SONAME "${CMAKE_MATCH_1}")
endif()
if(NOT ILG_CAPSTONE_SONAME)
  message(FATAL_ERROR "ilgraft: cannot read the soname of capstone (${ILG_CAPSTONE_LIBRARY}); "
                      "install binutils and libcapstone-dev")
endif()
ilg_require(LIBELF libelf libelf-dev)
ilg_require(JANSSON jansson libjansson-dev)
# XXH3-128: the saved module's new MVID (save/save.c).
ilg_require(XXHASH libxxhash libxxhash-dev)
if(ILG_BUILD_TESTS)
  ilg_require(CHECK check check)
endif()
