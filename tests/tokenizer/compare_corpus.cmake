# cmake -DNODE=... -DSCRIPT=gen_corpus.js -DOUT=new.txt -DREF=corpus.txt -P compare_corpus.cmake
execute_process(COMMAND ${NODE} ${SCRIPT} ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gen_corpus.js failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${REF} RESULT_VARIABLE diff)
if(NOT diff EQUAL 0)
  message(FATAL_ERROR "${REF} differs from what gen_corpus.js writes now; regenerate it and "
                      "rerun oracle.js")
endif()
