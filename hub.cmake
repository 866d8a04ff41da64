# Model downloads (Hugging Face hub, Ollama's local store): included from the top-level
# CMakeLists.txt after ug_base exists. Defines ug_hub (libcurl + OpenSSL's libcrypto for SHA-256)
# and, with UG_BUILD_TESTS, test_hub, which serves the hub's URL layout from an in-process
# cpp-httplib server on 127.0.0.1 (no network needed).
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)

file(GLOB _ug_hub_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/hub/*.cpp)
add_library(ug_hub STATIC ${_ug_hub_srcs})
target_include_directories(ug_hub PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(ug_hub PUBLIC ug_base nlohmann_json::nlohmann_json
                      PRIVATE CURL::libcurl OpenSSL::Crypto)

if(UG_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(UG_HUB_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  file(GLOB _ug_hub_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/hub/*.cpp)
  if(_ug_hub_tests)
    add_executable(test_hub ${_ug_hub_tests})
    target_link_libraries(test_hub PRIVATE ug_hub PkgConfig::UG_HUB_HTTPLIB GTest::gtest
                                           GTest::gtest_main)
    target_include_directories(test_hub PRIVATE ${CMAKE_SOURCE_DIR}/tests/hub)
    gtest_discover_tests(test_hub DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
  endif()
endif()
