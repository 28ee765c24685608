# cuttle_add_module(name SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One static library per module, cuttle::<name>, with headers included as "<module>/x.h".
function(cuttle_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(cuttle_${name} STATIC ${ARG_SOURCES})
  add_library(cuttle::${name} ALIAS cuttle_${name})
  target_include_directories(cuttle_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cuttle_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# cuttle_add_test(name SOURCES ... DEPS ... [LABELS ...])
# One GoogleTest binary; each TEST becomes a CTest case. *_pgtest.cc binaries get label postgres.
function(cuttle_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cuttle::testing GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 30)
endfunction()
