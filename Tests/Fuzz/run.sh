#!/usr/bin/env bash
# Builds each decoder family's libFuzzer target and runs it for FUZZ_SECONDS; fails on the first crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${FUZZ_SECONDS:-300}"
out=.build/fuzz
mkdir -p "$out"
for target in ${FUZZ_TARGETS:-link dhcp dns tls medical discovery}; do
  if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name FuzzDecoders \
      Sources/WardwatchDecoders/*.swift "Tests/Fuzz/$target.swift" -o "$out/$target" 2> "$out/$target.build.log"; then
    grep -v 'ld.gold: warning' "$out/$target.build.log" >&2
    echo "fuzz: building $target failed" >&2
    exit 1
  fi
  mkdir -p "$out/$target-corpus"
  if ! (cd "$out" && "./$target" -max_total_time="$seconds" -artifact_prefix="$target-" "$target-corpus" > "$target.log" 2>&1); then
    tail -30 "$out/$target.log" >&2
    echo "fuzz: $target crashed; the input is in $out/$target-crash-*" >&2
    exit 1
  fi
  echo "fuzz: $target $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$out/$target.log" | tail -1), no crash"
done
