#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/CMakeLists.txt: clang++-14, -fsanitize=fuzzer,address,
# undefined) in build-fuzz and runs each for FUZZ_SECONDS seconds on one core, seeded from
# tests/data. Any crash, sanitizer report, leak, >10 s input or >2 GB RSS fails the script and
# leaves the input in build-fuzz/artifacts/TARGET/. The corpus each run grows is kept in
# build-fuzz/corpus/TARGET, so a later run goes on from there.
#
#   fuzz/run.sh                                   every target, 20 s each (CI)
#   FUZZ_SECONDS=3600 fuzz/run.sh wav image       a long campaign on some targets
#   FUZZ_JOBS=4 FUZZ_SECONDS=3600 fuzz/run.sh     4 fuzzing processes per target
#   FUZZ_KEEP_GOING=1 fuzz/run.sh tokenizer_json  collect every finding instead of stopping at the first
#   FUZZ_NO_BUILD=1 fuzz/run.sh                   run the binaries already built
#   build-fuzz/fuzz_wav CRASH_FILE                replay one input
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${FUZZ_SECONDS:-20}"
all="safetensors gguf load_weights load_config tokenizer_json tokenizer_encode wav image jinja completion_request"
targets="${*:-$all}"
H=tests/data/hostile

if [ -z "${FUZZ_NO_BUILD:-}" ]; then  # FUZZ_NO_BUILD=1: run the binaries already in build-fuzz
  cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER="${FUZZ_CXX:-clang++-14}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j"${FUZZ_BUILD_JOBS:-2}" --target $(printf 'fuzz_%s ' $targets)
fi

seed() {  # target max_len files...
  local t=$1 dir=build-fuzz/seeds/$1
  rm -rf "$dir" && mkdir -p "$dir"
  shift 2
  local i=0
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$i-$(basename "$f")" && i=$((i + 1)); done
}
max_len() {
  case $1 in
    load_config) echo 8192 ;; tokenizer_encode) echo 4096 ;; image) echo 16384 ;; jinja) echo 16384 ;; *) echo 65536 ;;
  esac
}

status=0
summary=""
for t in $targets; do
  case $t in
    safetensors) seed $t 0 $H/safetensors/* $H/inputs/* $H/models/ok/model.safetensors ;;
    gguf) seed $t 0 $H/gguf/* ;;
    load_weights) seed $t 0 $H/models/*/model.safetensors $H/models/index_ok/*.safetensors ;;
    load_config) seed $t 0 tests/data/hf/llama/config.json tests/data/hf/*/config.json tests/data/torch/*/config.json \
                   $H/models/*/config.json ;;
    tokenizer_json) seed $t 0 $H/tokenizers/*.json ;;
    tokenizer_encode)
      seed $t 0 $H/text/* fuzz/fuzz_tokenizer_encode.cpp
      /usr/bin/python3 - build-fuzz/seeds/$t tests/data/tokenizers/hostile_corpus.json <<'PY'
import json, sys
out, src = sys.argv[1], sys.argv[2]
for i, s in enumerate(json.load(open(src, encoding="utf-8"))[::8]):
    open("%s/corpus-%04d" % (out, i), "wb").write(s.encode("utf-8", "surrogatepass"))
PY
      ;;
    wav) seed $t 0 tests/data/audio/*.wav $H/wav/* ;;
    image) seed $t 0 tests/data/images/*.png tests/data/images/*.jpg $H/images/* ;;
    jinja) seed $t 0 tests/data/chat_templates/*.jinja ;;
    completion_request) seed $t 0 $H/requests/*.json ;;
    *) echo "run.sh: unknown target '$t' (targets: $all)" >&2; exit 2 ;;
  esac
  mkdir -p build-fuzz/corpus/$t build-fuzz/artifacts/$t
  dict=()
  case $t in
    safetensors|load_weights|load_config|tokenizer_json|completion_request) dict=(-dict=fuzz/json.dict) ;;
    gguf) dict=(-dict=fuzz/gguf.dict) ;;
    jinja) dict=(-dict=fuzz/jinja.dict) ;;
  esac
  log=build-fuzz/$t.log
  echo "== fuzz_$t: ${secs} s"
  set +e
  build-fuzz/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len="$(max_len $t)" -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/$t/ \
    ${FUZZ_JOBS:+-fork=$FUZZ_JOBS} ${FUZZ_KEEP_GOING:+-fork=${FUZZ_JOBS:-1} -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1} \
    "${dict[@]}" \
    build-fuzz/corpus/$t build-fuzz/seeds/$t >"$log" 2>&1
  rc=$?
  set -e
  runs=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1) || true)
  cov=$( (grep -o 'cov: [0-9]*' "$log" | tail -1) || true)
  line="fuzz_$t: exit $rc, ${runs:-?} executions in ${secs} s, ${cov:-cov: ?}, corpus $(ls build-fuzz/corpus/$t | wc -l) files"
  echo "$line"
  summary+="$line"$'\n'
  if [ $rc -ne 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -20
  fi
done
echo
echo "$summary"
exit $status
