# Read by ctest after the GoogleTest discovery: the longest tests start first, so that with -j2
# they overlap the many short ones instead of running alone at the end (a fresh clone has no
# CTestCostData.txt to order by). Costs are seconds measured on the 2-core CI machine.
set(tessera_long_tests
  tokenizer_reference_compare 300
  Concurrency.EightThreadsGenerateExactlyWhatOneThreadDoes 150
  package.find_package 80
  BpeDropout.OneAppliesNoMergeLikeHuggingFace 25
  GgufPycode.F32FileMatchesHuggingFaceAndLlamaCpp 20)
while(tessera_long_tests)
  list(POP_FRONT tessera_long_tests name cost)
  set_tests_properties(${name} PROPERTIES COST ${cost})
endwhile()
