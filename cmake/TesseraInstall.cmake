# cmake --install: headers, the library, the tessera-* tools, an exported package so an
# application can find_package(tessera) and link tessera::tessera, and tessera.pc for
# pkg-config users.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/tessera DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/tessera/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)
install(TARGETS tessera EXPORT tesseraTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT tesseraTargets NAMESPACE tessera:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)

# A static libtessera.a carries its private dependencies (PCRE2, ICU, libpng, libjpeg, soxr) to
# every consumer's link line; a shared one does not. The package config and tessera.pc ask
# for them only in the static case.
get_target_property(TESSERA_LIBRARY_TYPE tessera TYPE)
if(TESSERA_LIBRARY_TYPE STREQUAL "STATIC_LIBRARY")
  set(TESSERA_STATIC ON)
  set(TESSERA_PC_REQUIRES "eigen3 fmt nlohmann_json libpcre2-8 icu-uc libpng libjpeg soxr")
  set(TESSERA_PC_REQUIRES_PRIVATE "")
else()
  set(TESSERA_STATIC OFF)
  set(TESSERA_PC_REQUIRES "eigen3 fmt nlohmann_json")
  set(TESSERA_PC_REQUIRES_PRIVATE "libpcre2-8 icu-uc libpng libjpeg soxr")
endif()

configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/tesseraConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tesseraConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tesseraConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tesseraConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/tesseraConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)

# tessera.pc finds its prefix from where it lies (${pcfiledir}), not from the configure-time
# CMAKE_INSTALL_PREFIX: `cmake --install --prefix DIR` and a moved tree stay correct.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(FATAL_ERROR "tessera.pc needs CMAKE_INSTALL_LIBDIR and CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
endif()
file(RELATIVE_PATH TESSERA_PC_PREFIX_FROM_PCDIR /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/tessera.pc.in ${CMAKE_CURRENT_BINARY_DIR}/tessera.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tessera.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
