#!/usr/bin/env python3
"""The differential run against the Go server, with a committed baseline.

  go-baseline.py record [RUNS]   run the black-box suite against nats-server RUNS times
                                 (default 5) and write harness/baselines/nats-server-2.15.1.json
  go-baseline.py check           run it once and fail if any case differs from the baseline
  go-baseline.py add PATTERN [RUNS]
                                 run only the cases matching PATTERN (the conform CLI's
                                 --filter) RUNS times and add those not yet in the baseline

Each case's expected behaviour is its Autobahn-style verdict (behavior, behaviorClose,
remoteCloseCode) from the suite's index.json. The Go server races its 1002 close frame
against closing TCP (see docs/CONFORMANCE.md), so a case whose failures were only a
missing close frame or data lost to the early TCP close, or whose verdict changed between
recorded runs, is marked racy and
any verdict is accepted for it; everything else must match exactly. A changed baseline is
a reviewed change, as in tungstenite's Autobahn CI.
"""
import json, os, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(ROOT, "harness", "baselines", "nats-server-2.15.1.json")
# NATS_WS_CONFORM names another build of the CLI (a debug one is fine for `add`).
CONFORM = os.environ.get("NATS_WS_CONFORM") or os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "nats-ws-conform")
SERVER = os.path.join(ROOT, ".venv-peers", "bin", "nats-server")


def run_once(pattern=None):
    out = tempfile.mkdtemp(prefix="go-baseline-")
    cmd = [CONFORM, "--server-cmd", f"{SERVER} -c {{conf}}", "--name", "nats-server", "--out", out, "-q", "--no-golden"]
    if pattern:
        cmd += ["--filter", pattern]
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    index = json.load(open(os.path.join(out, "index-stable.json")))["nats-server"]
    only_close = set()
    for tc in ET.parse(os.path.join(out, "junit.xml")).iter("testcase"):
        f = tc.find("failure")
        if f is None:
            continue
        texts = [t for t in ((f.text or "") + "\n" + f.attrib.get("message", "")).splitlines() if t.strip()]
        # The race's two signatures: the close frame lost, or data the server had queued
        # lost because it ended TCP first ("ended Some(Eof)").
        if texts and all("no close frame" in t or "ended Some(Eof)" in t for t in texts):
            only_close.add(tc.attrib["classname"].split(".", 1)[1] + "/" + tc.attrib["name"])
    verdicts = {k: {"behavior": v["behavior"], "behaviorClose": v["behaviorClose"], "remoteCloseCode": v["remoteCloseCode"]} for k, v in index.items()}
    return verdicts, only_close


def verdicts_of(runs, pattern=None):
    results = [run_once(pattern) for _ in range(runs)]
    found = {}
    for case in sorted(results[0][0]):
        seen = [r[0].get(case) for r in results]
        racy = any(case in r[1] for r in results) or any(s != seen[0] for s in seen)
        found[case] = dict(seen[0] or {}, racy=racy)
    return found


def write(base, runs):
    os.makedirs(os.path.dirname(BASELINE), exist_ok=True)
    with open(BASELINE, "w") as f:
        json.dump(base, f, indent=2, sort_keys=True)
        f.write("\n")
    racy = sum(1 for v in base.values() if v["racy"])
    ok = sum(1 for v in base.values() if v["behavior"] == "OK")
    print(f"baseline: {len(base)} cases, {ok} OK, {racy} racy ({runs} runs) -> {os.path.relpath(BASELINE, ROOT)}")


def record(runs):
    write(verdicts_of(runs), runs)


def add(pattern, runs):
    base = json.load(open(BASELINE))
    new = {k: v for k, v in verdicts_of(runs, pattern).items() if k not in base}
    for case, v in new.items():
        print(f"  added {case}: {v['behavior']}/{v['behaviorClose']}/{v['remoteCloseCode']}{' (racy)' if v['racy'] else ''}")
    if not new:
        print(f"no case matching {pattern!r} is missing from the baseline")
        return
    write({**base, **new}, runs)


def check():
    base = json.load(open(BASELINE))
    got, _ = run_once()
    problems = []
    for case in sorted(set(base) | set(got)):
        b, g = base.get(case), got.get(case)
        if b is None:
            problems.append(f"new case not in the baseline: {case} -> {g}")
        elif g is None:
            problems.append(f"case missing from the run: {case}")
        elif not b["racy"] and {k: b[k] for k in g} != g:
            problems.append(f"{case}: baseline {b['behavior']}/{b['behaviorClose']}/{b['remoteCloseCode']}, now {g['behavior']}/{g['behaviorClose']}/{g['remoteCloseCode']}")
    ok = sum(1 for v in got.values() if v["behavior"] == "OK")
    print(f"nats-server 2.15.1: {len(got)} cases, {ok} OK; baseline {len(base)} cases ({sum(v['racy'] for v in base.values())} racy)")
    for p in problems:
        print("  DIFF", p)
    if problems:
        print("The Go server's results differ from harness/baselines/: review, then `scripts/go-baseline.py record`.")
        sys.exit(1)
    print("matches the baseline")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    if mode == "record":
        record(int(sys.argv[2]) if len(sys.argv) > 2 else 5)
    elif mode == "add" and len(sys.argv) > 2:
        add(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5)
    elif mode == "check":
        check()
    else:
        sys.exit(__doc__)
