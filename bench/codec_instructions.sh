#!/usr/bin/env bash
# Instructions per payload of each codec candidate, counted by callgrind
# (bench/codec_bench.cc --instructions): independent of what else runs on
# the machine, unlike the wall-clock figures. Prints a Markdown table.
#
#   bench/codec_instructions.sh [BUILD] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-2000}
bench="$build/bench/crashctl-codec-bench"
out=$(mktemp -d /tmp/crashctl-codec-cg-XXXXXX)
trap 'rm -rf "$out"' EXIT

count() {  # codec op kind iterations -> instructions
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bench" --instructions "$@" 2>&1 |
    awk '/Collected :/ {print $4}'
}

echo "| codec | payload | encode instructions | decode instructions |"
echo "|---|---|---|---|"
for codec in zlib1 libdeflate1 zstd1 zstd1-nochecksum zstd1-dict16 payload-codec; do
  for kind in error transaction; do
    base=$(count "$codec" encode "$kind" 0)
    enc=$(count "$codec" encode "$kind" "$n")
    dec=$(count "$codec" decode "$kind" "$n")
    echo "| $codec | $kind | $(( (enc - base) / n )) | $(( (dec - base) / n )) |"
  done
done
