#!/usr/bin/env bash
# Observations from damaged traffic must still match the observation schema (wardwatch process dead-letters a record
# that does not). Mutates every packet of every shared and fixture capture (mutate_pcap.py: 1 to 4 bytes flipped, or
# cut short; fixed seeds), runs `wardwatch capture` on each and validates all the output. Run by `make test` after the
# Swift tests, not inside them: it is CPU-heavy and would starve the timing-sensitive scaling test running alongside.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${BIN:-.build/debug/wardwatch}"
out=.build/mutated
rm -rf "$out" && mkdir -p "$out"
captures=$( (find ../shared/pcaps Tests/Fixtures -name '*.pcap' -o -name '*.pcapng' 2>/dev/null; echo Sources/WardwatchApp/Resources/ward-sample.pcap) | sort)
index=0
for capture in $captures; do
  # The mutator reads classic pcap; editcap (tshark's companion) converts pcapng.
  editcap -F pcap "$capture" "$out/base-$((index + 1)).pcap" 2>/dev/null || continue
  index=$((index + 1))
  for seed in 1 2 3; do
    python3 Tests/Fuzz/mutate_pcap.py "$out/base-$index.pcap" "$out/mutated.pcap" "$seed"
    "$bin" capture --pcap "$out/mutated.pcap" --output - --announcement-refresh 0 --log-level critical >> "$out/observations.jsonl"
  done
done
echo "mutated-schema-check: $index captures, $(wc -l < "$out/observations.jsonl") observations"
python3 schemas/validate.py records "$out/observations.jsonl" | tail -3
