# cmake --install: headers, the component libraries, the tessera-* tools, an exported package
# so an application can find_package(tessera [COMPONENTS core text vision audio]) and link
# tessera::core (etc.) or tessera::tessera (all four), and one pkg-config file per component
# (tessera-core.pc, tessera-text.pc, tessera-vision.pc, tessera-audio.pc) plus tessera.pc for
# all of them.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/tessera DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/tessera/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)
# One export set per component, so that the package config loads only the components asked
# for (and finds only their dependencies).
foreach(c ${TESSERA_COMPONENTS})
  install(TARGETS tessera_${c} EXPORT tessera_${c}Targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT tessera_${c}Targets NAMESPACE tessera:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)
endforeach()
install(TARGETS tessera EXPORT tesseraTargets)
install(EXPORT tesseraTargets NAMESPACE tessera:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)

# A static library carries its private dependencies (PCRE2 and ICU for text, libpng and
# libjpeg for vision, soxr for audio) to every consumer's link line; a shared one does not.
# The package config and the .pc files ask for them only in the static case.
get_target_property(TESSERA_LIBRARY_TYPE tessera_core TYPE)
if(TESSERA_LIBRARY_TYPE STREQUAL "STATIC_LIBRARY")
  set(TESSERA_STATIC ON)
else()
  set(TESSERA_STATIC OFF)
endif()

configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/tesseraConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tesseraConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tesseraConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tesseraConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/tesseraConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)

# The .pc files find their prefix from where they lie (${pcfiledir}), not from the
# configure-time CMAKE_INSTALL_PREFIX: `cmake --install --prefix DIR` and a moved tree stay correct.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(FATAL_ERROR "tessera's .pc files need CMAKE_INSTALL_LIBDIR and CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
endif()
file(RELATIVE_PATH TESSERA_PC_PREFIX_FROM_PCDIR /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
# component: description | tessera components it needs | its own external packages
set(TESSERA_PC_core "tensors, I/O, kernels, blocks, models and generation by token ids||fmt nlohmann_json")
set(TESSERA_PC_text "tokenizers, chat templates and text generation|tessera-core|libpcre2-8 icu-uc")
set(TESSERA_PC_vision "PNG/JPEG decoding and image preprocessing|tessera-core|libpng libjpeg")
set(TESSERA_PC_audio "WAV, log-mel features, resampling and transcription|tessera-text|soxr")
foreach(c ${TESSERA_COMPONENTS})
  string(REPLACE "|" ";" fields "${TESSERA_PC_${c}}")
  list(GET fields 0 TESSERA_PC_DESCRIPTION)
  list(GET fields 1 requires)
  list(GET fields 2 packages)
  if(c STREQUAL "core")  # the headers' own needs: every component gets them through core
    set(TESSERA_PC_REQUIRES "${packages}")
    set(TESSERA_PC_REQUIRES_PRIVATE "")
    set(TESSERA_PC_CFLAGS "Cflags: -I\${includedir} -std=c++20 -pthread")
  elseif(TESSERA_STATIC)
    set(TESSERA_PC_REQUIRES "${requires} ${packages}")
    set(TESSERA_PC_REQUIRES_PRIVATE "")
    set(TESSERA_PC_CFLAGS "")
  else()
    set(TESSERA_PC_REQUIRES "${requires}")
    set(TESSERA_PC_REQUIRES_PRIVATE "${packages}")
    set(TESSERA_PC_CFLAGS "")
  endif()
  set(TESSERA_PC_NAME tessera-${c})
  set(TESSERA_PC_LIBS "Libs: -L\${libdir} -ltessera_${c}")
  if(c STREQUAL "core")
    set(TESSERA_PC_LIBS "${TESSERA_PC_LIBS} -pthread")
  endif()
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/tessera.pc.in ${CMAKE_CURRENT_BINARY_DIR}/tessera-${c}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tessera-${c}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
set(TESSERA_PC_NAME tessera)
set(TESSERA_PC_DESCRIPTION "all of it: core, text, vision and audio")
set(TESSERA_PC_REQUIRES "tessera-core tessera-text tessera-vision tessera-audio")
set(TESSERA_PC_REQUIRES_PRIVATE "")
set(TESSERA_PC_CFLAGS "")
set(TESSERA_PC_LIBS "")
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/tessera.pc.in ${CMAKE_CURRENT_BINARY_DIR}/tessera.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tessera.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
