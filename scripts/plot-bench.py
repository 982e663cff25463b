#!/usr/bin/env python3
"""Plot nats-ws-bench JSON reports as an SVG (standard library only): one panel per
report, the median msgs/s of every server in every cell on a log scale, with each
run's value as a dot so the noise is visible, and the ratio to the first server.

    python3 scripts/plot-bench.py target/bench/matrix-tls-off.json [...] -o docs/bench.svg
    python3 scripts/plot-bench.py --tables target/bench/idle.json target/bench/latency.json

With --tables it prints Markdown tables (medians over repetitions) of idle-connection
memory/CPU and request/reply latency instead of plotting.
"""
import statistics
import json
import math
import sys
from xml.sax.saxutils import escape

COLORS = ["#1f6feb", "#d1242f", "#2da44e", "#9a6700"]
BAR, GAP, LEFT, TOP, PANEL_H, LABEL_H = 7, 6, 70, 40, 260, 120


def load(path):
    with open(path) as f:
        return json.load(f)


def short(name):
    return name.replace("Benchmark_WS_", "").replace("_", " ").replace("  ", " ")


def panel(report, y0, width):
    meta, summary = report["meta"], report["summary"]
    servers = meta["servers"]
    out = []
    title = (f"msgs/s per cell (median of {meta['reps']}; dots = runs), TLS "
             f"{'on' if meta['tls'] else 'off'}, payload {meta['payload'].lower()}, "
             f"{meta['amount']} per run, {meta['cpus']} CPUs shared")
    out.append(f'<text x="{LEFT}" y="{y0 + 16}" font-size="13" font-weight="bold">'
               f"{escape(title)}</text>")
    values = [s["msgs_per_sec"] for c in summary for s in c["servers"] if s["msgs_per_sec"] > 0]
    if not values:
        return out
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    top, bottom = y0 + TOP, y0 + TOP + PANEL_H

    def y(v):
        v = max(v, lo)
        return bottom - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * PANEL_H

    decade = lo
    while decade <= hi:
        yy = y(decade)
        out.append(f'<line x1="{LEFT}" x2="{width - 10}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>')
        label = f"{decade / 1e6:g}M" if decade >= 1e6 else f"{decade / 1e3:g}k" if decade >= 1e3 else f"{decade:g}"
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" font-size="10" text-anchor="end">{label}</text>')
        decade *= 10
    group = len(servers) * BAR + GAP
    for i, cell in enumerate(summary):
        x0 = LEFT + 8 + i * group
        for j, s in enumerate(cell["servers"]):
            x = x0 + j * BAR
            color = COLORS[j % len(COLORS)]
            if s["msgs_per_sec"] > 0:
                yy = y(s["msgs_per_sec"])
                out.append(f'<rect x="{x}" y="{yy:.1f}" width="{BAR - 1}" height="{bottom - yy:.1f}" '
                           f'fill="{color}" fill-opacity="0.75"><title>{escape(s["server"])} '
                           f'{escape(cell["name"])}: {s["msgs_per_sec"]:.0f} msgs/s</title></rect>')
                for v in s.get("samples", []):
                    out.append(f'<circle cx="{x + (BAR - 1) / 2:.1f}" cy="{y(v):.1f}" r="1.2" fill="#000"/>')
            else:
                out.append(f'<text x="{x}" y="{bottom - 2}" font-size="8" fill="{color}">x</text>')
        ratio = next(iter(cell.get("ratios", {}).values()), None)
        if ratio is not None:
            color = "#2da44e" if ratio >= 1 else "#d1242f"
            out.append(f'<text x="{x0 + group / 2 - GAP / 2:.1f}" y="{top - 4}" font-size="8" '
                       f'text-anchor="middle" fill="{color}">{ratio:.1f}</text>')
        lx, ly = x0 + group / 2, bottom + 6
        out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="9" text-anchor="end" '
                   f'transform="rotate(-70 {lx:.1f} {ly:.1f})">{escape(short(cell["name"]))}</text>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{top}" y2="{bottom}" stroke="#000"/>')
    out.append(f'<line x1="{LEFT}" x2="{width - 10}" y1="{bottom}" y2="{bottom}" stroke="#000"/>')
    lx = width - 260
    for j, name in enumerate(servers):
        out.append(f'<rect x="{lx + j * 110}" y="{y0 + 6}" width="10" height="10" fill="{COLORS[j % len(COLORS)]}"/>')
        out.append(f'<text x="{lx + j * 110 + 14}" y="{y0 + 15}" font-size="11">{escape(name)}</text>')
    if len(servers) > 1:
        out.append(f'<text x="{LEFT + 4}" y="{top - 14}" font-size="9" fill="#555">'
                   f"numbers above: {escape(servers[1])} / {escape(servers[0])}</text>")
    return out


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def tables(paths):
    for path in paths:
        rep = load(path)
        servers = rep["meta"]["servers"]
        if rep.get("idle"):
            print("| connections | compression | server | RSS before | RSS with all open | per connection | idle CPU | open (s) | alive |")
            print("|---|---|---|---|---|---|---|---|---|")
            keys = sorted({(r["result"]["conns"], r["result"]["compress"]) for r in rep["idle"] if r["result"]})
            for conns, comp in keys:
                for s in servers:
                    rs = [r["result"] for r in rep["idle"] if r["server"] == s and r["result"]
                          and r["result"]["conns"] == conns and r["result"]["compress"] == comp]
                    if not rs:
                        continue
                    print(f"| {conns} | {'on' if comp else 'off'} | {s} | "
                          f"{med([r['base_rss'] for r in rs]) / 2**20:.1f} MiB | "
                          f"{med([r['rss'] for r in rs]) / 2**20:.1f} MiB | "
                          f"{med([r['rss_per_conn'] for r in rs]) / 1024:.1f} KiB | "
                          f"{med([r['idle_cpu_percent'] for r in rs]):.1f} % | "
                          f"{med([r['open_secs'] for r in rs]):.1f} | "
                          f"{min(r['alive'] for r in rs)}/{conns} |")
            print()
        if rep.get("latency"):
            print("| compression | phase | server | p50 µs | p90 µs | p99 µs | max µs | samples | load msgs/s |")
            print("|---|---|---|---|---|---|---|---|---|")
            for comp in (False, True):
                for phase in ("idle", "loaded"):
                    for s in servers:
                        ps = [p for r in rep["latency"] if r["server"] == s and r["compress"] == comp
                              for p in r["phases"] if p["phase"] == phase]
                        if not ps:
                            continue
                        print(f"| {'on' if comp else 'off'} | {phase} | {s} | "
                              f"{med([p['p50_us'] for p in ps]):.0f} | {med([p['p90_us'] for p in ps]):.0f} | "
                              f"{med([p['p99_us'] for p in ps]):.0f} | {med([p['max_us'] for p in ps]):.0f} | "
                              f"{sum(p['samples'] for p in ps)} | {med([p['load_msgs_per_sec'] for p in ps]) / 1e6:.2f}M |")
            print()


def main(argv):
    if argv and argv[0] == "--tables":
        tables(argv[1:])
        return
    paths, out_path = [], "docs/bench.svg"
    it = iter(argv)
    for a in it:
        if a == "-o":
            out_path = next(it)
        else:
            paths.append(a)
    if not paths:
        sys.exit("usage: plot-bench.py REPORT.json [...] -o OUT.svg")
    reports = [load(p) for p in paths]
    ncells = max(len(r["summary"]) for r in reports)
    nserv = max(len(r["meta"]["servers"]) for r in reports)
    width = LEFT + 30 + ncells * (nserv * BAR + GAP)
    ph = TOP + PANEL_H + LABEL_H
    height = ph * len(reports) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>']
    for i, r in enumerate(reports):
        parts += panel(r, i * ph, width)
    parts.append("</svg>")
    with open(out_path, "w") as f:
        f.write("\n".join(parts) + "\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main(sys.argv[1:])
