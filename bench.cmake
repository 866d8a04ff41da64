# Micro-benchmarks (bench/*.cpp -> ug_bench), built only when Google Benchmark is installed.
# Included from the top-level CMakeLists.txt after the ug_* libraries are defined.
find_package(benchmark QUIET)
if(benchmark_FOUND)
  file(GLOB _ug_bench_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/bench/*.cpp)
  add_executable(ug_bench ${_ug_bench_srcs})
  target_link_libraries(ug_bench PRIVATE ug_model ug_grammar benchmark::benchmark)
  # grammar_bench.cpp reads the schema corpus and the npm vocabulary from the checkout.
  target_compile_definitions(ug_bench PRIVATE UG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
else()
  message(STATUS "Google Benchmark not found: ug_bench is not built")
endif()
