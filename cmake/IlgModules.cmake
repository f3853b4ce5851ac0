# ilg_add_module(NAME SOURCES...): one ilgraft module as an object library. The public
# libraries (ilgraft, ilgraft_static) are assembled from every registered module.
function(ilg_add_module name)
  add_library(${name} OBJECT ${ARGN})
  target_include_directories(${name} PUBLIC ${ILG_INCLUDE_DIR}
                             PRIVATE ${CMAKE_SOURCE_DIR}/common ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC PkgConfig::LIBELF PkgConfig::CAPSTONE PkgConfig::JANSSON
                        PkgConfig::XXHASH)
  set_property(GLOBAL APPEND PROPERTY ILG_MODULES ${name})
endfunction()

# ilg_add_suite(NAME LABELS label... SOURCES file... [MODULES m...] [TIMEOUT seconds]):
# one Check suite, one CTest entry. MODULES links just those object libraries (say
# ilg_common ilg_ilbody) instead of the whole static library.
function(ilg_add_suite name)
  cmake_parse_arguments(S "" "TIMEOUT" "LABELS;SOURCES;MODULES" ${ARGN})
  set(objs)
  foreach(m ${S_MODULES})
    list(APPEND objs $<TARGET_OBJECTS:${m}>)
  endforeach()
  add_executable(${name} ${S_SOURCES} ${objs})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/common
                             ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/loader
                             ${CMAKE_SOURCE_DIR}/ilbody)
  if(S_MODULES)
    target_include_directories(${name} PRIVATE ${ILG_INCLUDE_DIR})
    target_link_libraries(${name} PRIVATE PkgConfig::CHECK PkgConfig::JANSSON PkgConfig::LIBELF
                          PkgConfig::CAPSTONE PkgConfig::XXHASH Threads::Threads ${CMAKE_DL_LIBS})
  else()
    target_link_libraries(${name} PRIVATE ilgraft_static PkgConfig::CHECK PkgConfig::JANSSON)
  endif()
  target_compile_definitions(${name} PRIVATE
    ILG_FIXTURE_DIR="${CMAKE_BINARY_DIR}/fixtures"
    ILG_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    ILG_CLI_PATH="$<TARGET_FILE:ilgraft_cli>")
  add_dependencies(${name} ilg_fixtures ilgraft_cli)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT S_TIMEOUT)
    set(S_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${S_LABELS}" TIMEOUT ${S_TIMEOUT}
                       ENVIRONMENT "CK_DEFAULT_TIMEOUT=${S_TIMEOUT}")
endfunction()
