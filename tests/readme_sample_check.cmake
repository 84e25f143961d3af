# ctest readme.api_sample: runs README's sample (from the repository root, where its
# models/pycode-6m path points) and compares what it prints with Hugging Face's greedy
# continuation of the same prompt in pycode-6m's meta.json.
execute_process(COMMAND ${SAMPLE} RESULT_VARIABLE rc OUTPUT_VARIABLE got ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "README sample exited with ${rc}: ${err}")
endif()
file(READ ${META} meta)
string(JSON prompt GET "${meta}" generation prompt)
string(JSON want GET "${meta}" generation continuation)
if(NOT prompt STREQUAL "def fibonacci(n):\n")
  message(FATAL_ERROR "meta.json's prompt is '${prompt}', the README sample's is 'def fibonacci(n):\\n'")
endif()
if(NOT got STREQUAL want)
  message(FATAL_ERROR "README sample printed\n---\n${got}\n---\nHugging Face's greedy continuation is\n---\n${want}\n---")
endif()
