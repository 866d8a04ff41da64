# Media decoding (images, audio, video): included from the top-level CMakeLists.txt after the
# ug_base library exists. Defines ug_media and, with UG_BUILD_TESTS, test_media.
find_package(PkgConfig REQUIRED)
pkg_check_modules(UG_MEDIA_DEPS REQUIRED IMPORTED_TARGET
                  libwebp libwebpdemux sndfile soxr
                  libavformat libavcodec libswscale libswresample libavutil)
find_path(UG_STB_IMAGE_DIR stb/stb_image.h REQUIRED)

file(GLOB _ug_media_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/media/*.cpp)
add_library(ug_media STATIC ${_ug_media_srcs})
target_include_directories(ug_media PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_include_directories(ug_media SYSTEM PRIVATE ${UG_STB_IMAGE_DIR})
target_link_libraries(ug_media PUBLIC ug_base PRIVATE PkgConfig::UG_MEDIA_DEPS)

if(UG_BUILD_TESTS)
  # Imported targets are scoped to the folder that found them, so find GTest here too.
  find_package(GTest REQUIRED)
  include(GoogleTest)
  file(GLOB _ug_media_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/media/*.cpp)
  if(_ug_media_tests)
    add_executable(test_media ${_ug_media_tests})
    target_link_libraries(test_media PRIVATE ug_media GTest::gtest GTest::gtest_main)
    target_include_directories(test_media PRIVATE ${CMAKE_SOURCE_DIR}/tests/media ${CMAKE_SOURCE_DIR}/tests)
    target_compile_definitions(test_media PRIVATE UG_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                               UG_SHARED_DIR="${UG_SHARED_DIR}"
                               UG_BINARY_DIR="${CMAKE_BINARY_DIR}")
    gtest_discover_tests(test_media DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600 LABELS media)
  endif()
endif()
