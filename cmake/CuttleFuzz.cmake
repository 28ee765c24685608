# Fuzz targets (tests/fuzz/), built two ways from the same sources:
# - the normal build: each target is a plain executable linked with tests/fuzz/driver.cc and
#   registered as the CTest test fuzz_<name>, which replays its seed corpus and saved crash inputs
#   (so `make test` runs them as regression tests, no clang needed);
# - the fuzz build (-DCUTTLE_FUZZ=ON with clang, `make fuzz` into build-fuzz/): every module is
#   compiled with ASan, UBSan and libFuzzer's coverage instrumentation, and each target links
#   libFuzzer's own main.
option(CUTTLE_FUZZ "Build the libFuzzer targets (clang) with ASan and UBSan" OFF)

# Call before the modules are added: in the fuzz build, instruments everything that follows.
macro(cuttle_configure_fuzzing)
  if(CUTTLE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      message(FATAL_ERROR "CUTTLE_FUZZ needs clang (libFuzzer); configure with "
                          "-DCMAKE_CXX_COMPILER=clang++-16")
    endif()
    # libstdc++ 12 offers <expected> only when __cpp_concepts >= 202002L (for conditionally trivial
    # special members, P0848), a value clang 16 does not yet announce although it implements
    # P0848. Announce it ourselves when that is what stands between us and std::expected.
    include(CheckCXXSourceCompiles)
    set(_cuttle_expected_probe
        "#include <expected>\nint main() { std::expected<int, int> e = 1; return *e - 1; }")
    check_cxx_source_compiles("${_cuttle_expected_probe}" CUTTLE_HAVE_EXPECTED)
    if(NOT CUTTLE_HAVE_EXPECTED)
      set(CMAKE_REQUIRED_FLAGS "-U__cpp_concepts -D__cpp_concepts=202002L")
      check_cxx_source_compiles("${_cuttle_expected_probe}" CUTTLE_HAVE_EXPECTED_WITH_CONCEPTS)
      unset(CMAKE_REQUIRED_FLAGS)
      if(NOT CUTTLE_HAVE_EXPECTED_WITH_CONCEPTS)
        message(FATAL_ERROR "${CMAKE_CXX_COMPILER} cannot use std::expected from this C++ library")
      endif()
      add_compile_options(-U__cpp_concepts -D__cpp_concepts=202002L)
    endif()
    # Boost 1.74's Asio recognises C++20 coroutines in clang only through libc++'s
    # <experimental/coroutine>; libstdc++'s <coroutine> works, Asio just has to be told.
    add_compile_definitions(BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
    add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                        -fsanitize=fuzzer-no-link -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
    add_custom_target(fuzz_targets)
  endif()
endmacro()

# cuttle_add_fuzz_target(name SOURCES ... DEPS ...)
# tests/fuzz/<name>_fuzz.cc defines LLVMFuzzerTestOneInput; its inputs live in
# tests/fuzz/corpus/<name>/ and tests/fuzz/regressions/<name>/.
function(cuttle_add_fuzz_target name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  set(target ${name}_fuzz)
  if(CUTTLE_FUZZ)
    add_executable(${target} ${ARG_SOURCES})
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzz_targets ${target})
  else()
    add_executable(${target} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/driver.cc)
    set(inputs ${PROJECT_SOURCE_DIR}/tests/fuzz)
    add_test(NAME fuzz_${name}
             COMMAND ${target} ${inputs}/corpus/${name} ${inputs}/regressions/${name})
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz)
  endif()
  target_link_libraries(${target} PRIVATE ${ARG_DEPS})
endfunction()
