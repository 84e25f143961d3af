# Read by ctest right after the GoogleTest discovery: the longest discovered tests start first,
# so that with -j2 they overlap the many short ones instead of running alone at the end (a
# fresh clone has no CTestCostData.txt to order by). Costs are seconds, measured on the 2-core
# machine. (Tests made by add_test() get their COST where they are added: they are defined
# after this file is read.) Naming a test that a build does not have is harmless.
set_tests_properties(Concurrency.EightThreadsGenerateExactlyWhatOneThreadDoes PROPERTIES COST 150)
set_tests_properties(BpeDropout.OneAppliesNoMergeLikeHuggingFace PROPERTIES COST 25)
set_tests_properties(GgufPycode.F32FileMatchesHuggingFaceAndLlamaCpp PROPERTIES COST 20)
