#!/usr/bin/env python3
"""Print criterion results (target/criterion) as a Markdown table: median time, GiB/s,
and the ratio to the memcpy row of the same group and size."""
import json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
rows = []
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
        continue
    est = json.load(open(os.path.join(dirpath, "estimates.json")))
    bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
    ns = est["median"]["point_estimate"]
    tp = bench.get("throughput") or {}
    nbytes = tp.get("Bytes") or tp.get("BytesDecimal")
    rows.append((bench["group_id"], bench.get("value_str") or "", bench["function_id"] or "", ns, nbytes))
rows.sort()
memcpy = {(g, v): ns for g, v, f, ns, b in rows if f == "memcpy"}
print("| group | size | impl | median | GiB/s | vs memcpy |")
print("|---|---|---|---|---|---|")
for g, v, f, ns, b in rows:
    gibs = f"{b / ns * 1e9 / 2**30:.1f}" if b else ""
    ratio = f"{memcpy[(g, v)] / ns:.2f}x" if (g, v) in memcpy else ""
    t = f"{ns:.0f} ns" if ns < 1e4 else f"{ns / 1e3:.1f} µs"
    print(f"| {g} | {v} | {f} | {t} | {gibs} | {ratio} |")
