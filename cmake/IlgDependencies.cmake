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
ilg_require(LIBELF libelf libelf-dev)
ilg_require(JANSSON jansson libjansson-dev)
if(ILG_BUILD_TESTS)
  ilg_require(CHECK check check)
endif()
