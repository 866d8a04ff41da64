# Registers the numpy reference decoder's checks (tests/reference/test_*.py) as one ctest test.
# Include from tests/CMakeLists.txt after UG_SHARED_DIR is set:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/reference/CMakeLists.reference.cmake)
# Needs Debian's python3-numpy in /usr/bin/python3 (not a pyenv python); node + the npm tokenizer
# are optional (the oracle test skips without them).
if(NOT DEFINED UG_SHARED_DIR)
  set(UG_SHARED_DIR "${CMAKE_SOURCE_DIR}/../shared")
endif()
add_test(NAME reference_python
         COMMAND /usr/bin/python3 -m unittest discover -s ${CMAKE_SOURCE_DIR}/tests/reference
                 -p "test_*.py")
set_tests_properties(reference_python PROPERTIES
                     ENVIRONMENT "UG_SHARED_DIR=${UG_SHARED_DIR}"
                     TIMEOUT 300)
