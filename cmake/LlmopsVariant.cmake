# llmops_variant(NAME FROM target... [DEPS lib...] [COMPILE flag...] [LINK flag...])
#
# A second static library with the sources of the FROM targets (llmops_tap,
# llmops_core) compiled with other flags, linking what they link (the FROM
# targets and their siblings replaced by DEPS). Sanitizer builds instrument
# the core with ASan but keep the modules loaded into other programs free of
# it; the fuzz harnesses need the core built with libFuzzer's coverage.
# COMPILE flags apply to the library's own sources, LINK flags to whatever
# links it.
function(llmops_variant name)
  cmake_parse_arguments(V "" "" "FROM;DEPS;COMPILE;LINK" ${ARGN})
  set(srcs)
  set(libs)
  foreach(t ${V_FROM})
    get_target_property(tsrcs ${t} SOURCES)
    get_target_property(tdir ${t} SOURCE_DIR)
    foreach(f ${tsrcs})
      if(IS_ABSOLUTE "${f}")
        list(APPEND srcs "${f}")
      else()
        list(APPEND srcs "${tdir}/${f}")
      endif()
    endforeach()
    get_target_property(tlibs ${t} INTERFACE_LINK_LIBRARIES)
    if(tlibs)
      list(APPEND libs ${tlibs})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES libs)
  list(REMOVE_ITEM libs llmops_tap llmops_core)
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/collector)
  target_link_libraries(${name} PUBLIC ${V_DEPS} ${libs})
  target_compile_options(${name} PRIVATE ${V_COMPILE})
  target_link_options(${name} INTERFACE ${V_LINK})
endfunction()
