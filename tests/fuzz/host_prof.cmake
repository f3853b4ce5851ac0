# host_prof.cmake: what the rules, host and mdemit fuzz targets need beyond the library, shared
# by the libFuzzer build (tests/fuzz) and the regression replays (tests/): the plugin's
# rules sources, and fuzz_host_prof, the profiler library that hands each input to
# SetILFunctionBody. That library is built without sanitizers (like the plugin), so the
# same file is what the host dlopens.
if(NOT TARGET fuzz_host_prof)
  add_library(fuzz_host_prof MODULE ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_host_prof.c
              ${CMAKE_SOURCE_DIR}/tests/integration/prof_common.c)
  target_include_directories(fuzz_host_prof PRIVATE ${ILG_INCLUDE_DIR}
                             ${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_SOURCE_DIR}/profiler)
  set_target_properties(fuzz_host_prof PROPERTIES PREFIX "")
  set_property(TARGET fuzz_host_prof PROPERTY COMPILE_OPTIONS -Wall -Wextra -Wno-unused-parameter)
  set_property(TARGET fuzz_host_prof PROPERTY LINK_OPTIONS "")
endif()

function(ilg_fuzz_host_setup target)
  target_compile_definitions(${target} PRIVATE
    ILG_FUZZ_PROFILER="$<TARGET_FILE:fuzz_host_prof>"
    ILG_FUZZ_CLSID="{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
    ILG_FUZZ_IMAGE="${CMAKE_BINARY_DIR}/fixtures/calc.exe")
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
  add_dependencies(${target} fuzz_host_prof ilg_fixtures)
endfunction()

function(ilg_fuzz_rules_setup target)
  target_sources(${target} PRIVATE ${CMAKE_SOURCE_DIR}/profiler/rules.c
                 ${CMAKE_SOURCE_DIR}/profiler/rewrite.c)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/profiler
                             ${CMAKE_SOURCE_DIR}/ilbody)
  target_link_libraries(${target} PRIVATE PkgConfig::JANSSON)
endfunction()

function(ilg_fuzz_mdemit_setup target)
  target_compile_definitions(${target} PRIVATE ILG_FUZZ_IMAGE="${CMAKE_BINARY_DIR}/fixtures/types.exe"
                             ILG_FUZZ_WIDE="${CMAKE_BINARY_DIR}/fixtures/wide.exe")
  add_dependencies(${target} ilg_fixtures)
endfunction()
