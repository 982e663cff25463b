#!/usr/bin/env python3
"""Differential fuzzing of the NATS configuration parser: nats-ws-server against Go.

Generates configuration files from a weighted grammar (seeded), runs both servers with
`-t -c FILE` on each (same working directory, same fixed environment), and compares the
exit status, stdout and stderr byte for byte after replacing the program name. On
success both print the sha256 digest of the whole parsed tree (Go's conf.configDigest),
so equal output means equal parse trees; on failure both print Go's error texts.

    python3 scripts/conf-diff.py --seed 1 --cases 400 --time-budget 60 \
        --ours target/debug/nats-ws-server --go .venv-peers/bin/nats-server --out /tmp/cd

The grammar leans on the tricky parts of Go's conf/lex.go and conf/parse.go: numbers with
size suffixes and stray characters, floats, negative numbers, IP- and date-like bare
strings, quoted strings with escapes (valid and invalid), block strings `( ... )`, `#`
and `//` comments in odd places, every separator, nested maps and arrays, variables
(defined, undefined, nested scopes, from the environment), `include` of generated files,
known options with wrongly typed values, unknown and duplicate keys, unicode, empty
input, and raw mutations (character flips, insertions, truncation) of valid files.
Top-level keys spelled `SYSTEM`, `System`, ... take any value in Go (the switch lowers
the key, the system-account lookup does not), so those files parse and are compared by
digest.

Each differing input is minimised (line, then character delta debugging that keeps a
difference) and written under --out with both outputs. Exit status 1 on a difference.

Go prints option errors in its map iteration order, which is random: on failure the
error lines are compared sorted. Within a block (authorization, websocket, ...) a
recovered type-assertion panic skips the keys Go had not reached yet, so even the set of
errors varies: on a difference Go is run again (up to GO_RERUNS times) and any of its
answers that equals ours counts.

Differences we keep on purpose, which the generator therefore avoids (conf/mod.rs and
digest.rs document them; docs/CONFORMANCE.md rows O10-O12):
- strings that are not UTF-8 (`\\xNN` escapes >= 0x80 that do not form UTF-8, raw
  non-UTF-8 bytes): ours replaces the bytes by U+FFFD, so digests differ. Escapes are
  generated as ASCII or as whole UTF-8 sequences, mutations insert ASCII only. Go's
  error for `\\x` before a non-ASCII character quotes one byte of it (not UTF-8; ours
  shows U+FFFD): such an escape is turned into `\\t`.
- keys this server accepts and ignores (IGNORED_KEYS in options/server.rs, e.g.
  `connect_error_reports`) are not type-checked, and keys it refuses (REFUSED_KEYS in
  options/ops.rs) are refused whatever their value: neither is generated.
- account `imports`/`exports` are kept unparsed (not implemented), so Go's checks of
  their entries (unknown fields, types) are not made: they are not generated.
- MAX_DEPTH (64 nested maps/arrays), MAX_VALUES (2^20 values per parse), MAX_INCLUDE_DEPTH
  (16) and MAX_FILE_SIZE (16 MiB): generated files nest at most 5 deep, stay small, and
  include files do not include each other.
"""

import argparse
import concurrent.futures
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

RUN_TIMEOUT = 10.0
GO_RERUNS = 12
ENV = {
    "CD_NUM": "42",
    "CD_SIZE": "4k",
    "CD_STR": "hello world",
    "CD_QUOTED": '"quoted # not a comment"',
    "CD_MAP": "{a: 1, b: [2, 3]}",
    "CD_ARR": "[1, two, 3.5]",
    "CD_BAD": "[1, ",
    "CD_REF": "$CD_NUM",
    "CD_CYCLE": "$CD_CYCLE",
    "CD_EMPTY": "",
    "CD_BOOL": "yes",
}

# Known options: (name, generator of a fitting value). Wrong types come from gen_value.
KNOWN = [
    ("port", lambda g: g.int_lit()),
    ("server_name", lambda g: g.choice(["srv", '"a b"', "'x'", "n1"])),
    ("host", lambda g: g.choice(["127.0.0.1", '"localhost"', "::1"])),
    ("listen", lambda g: g.choice(["127.0.0.1:4222", "4222", '"[::1]:4222"', "localhost:-1", ":x"])),
    ("debug", lambda g: g.bool_lit()),
    ("trace", lambda g: g.bool_lit()),
    ("max_payload", lambda g: g.int_lit()),
    ("max_pending", lambda g: g.int_lit()),
    ("max_connections", lambda g: g.int_lit()),
    ("max_control_line", lambda g: g.int_lit()),
    ("max_subscriptions", lambda g: g.int_lit()),
    ("ping_interval", lambda g: g.choice(['"2m"', "60", '"1h30m"', '"x"', "-1"])),
    ("ping_max", lambda g: g.int_lit()),
    ("write_deadline", lambda g: g.choice(['"10s"', "3", '"1ms"', '"1d"'])),
    ("http_port", lambda g: g.int_lit()),
    ("no_auth_user", lambda g: g.choice(["alice", '"bob"'])),
    ("authorization", lambda g: g.auth_block()),
    ("websocket", lambda g: g.ws_block()),
    ("accounts", lambda g: g.accounts_block()),
    ("lame_duck_duration", lambda g: g.choice(['"30s"', "10", '"-1s"'])),
    ("system_account", lambda g: g.choice(["$SYS", '"A"', "A"])),
]

BARE_WORDS = ["foo", "bar-baz", "a.b.c", "x_y", "naïve", "日本", "ünï", "$$", "a$b",
              "true", "FALSE", "Yes", "off", "On", "NO", "nil", "null", "include",
              "-", "--", "-x", ".5", "1.", "1.2.3", "127.0.0.1", "::1", "10.0.0.1:4222",
              "2016-05-04T18:53:41Z", "2016-05-04", "2016-05-04T18:53:41", "1-2",
              "1e21", "1e5", "1E-3", "0x10", "0o7", "0b1", "1_000", "0K1abc", "1kb2",
              "12:30", "http://x/y", "a/b", "a//b", "a#b", "1#2", "1//2", "4k", "4KB",
              "4Ki", "4kib", "1g", "1gb", "2T", "1P", "1E", "8e", "1ee", "9223372036854775807",
              "9223372036854775808", "-9223372036854775808", "99999999999999999999",
              "1.7976931348623157e308", "1e400", "-0", "-0.0", "00", "007", "1,2", "a=b",
              "a:b", "é=1"]
SUFFIXES = ["", "", "", "k", "K", "kb", "KB", "ki", "Ki", "kib", "KiB", "m", "mb", "mi",
            "mib", "g", "gb", "gi", "gib", "t", "tb", "ti", "p", "pb", "e", "eb", "ei", "b",
            "i", "x", "kx", "kbx", "k1", "abc", "s", "ms", "h"]
ESCAPES = ["\\t", "\\n", "\\r", '\\"', "\\\\", "\\x41", "\\x7f", "\\x00", "\\x0a",
           "\\xc3\\xa9", "\\xe2\\x82\\xac", "\\x4g", "\\xZZ", "\\q", "\\u0041", "\\/",
           "\\ ", "\\'", "\\$", "\\b", "\\f", "\\0"]
DQ_X = '"x"'
DQ_2S = '"2s"'
DQ_ORIGINS = '["http://a"]'
MUTATION_CHARS = list("{}[]()=:;,#/\\\"'$ \t\n\r-.0123456789kKbBeE_aZ") + ["é", "\u2028"]


class Gen:
    def __init__(self, rng, depth_limit=4):
        self.r = rng
        self.depth_limit = depth_limit
        self.vars = []  # names defined so far at top level
        self.includes = {}  # file name -> contents

    def choice(self, xs):
        return self.r.choice(xs)

    def w(self, pairs):
        total = sum(p[0] for p in pairs)
        x = self.r.uniform(0, total)
        for weight, f in pairs:
            x -= weight
            if x <= 0:
                return f()
        return pairs[-1][1]()

    def int_lit(self):
        r = self.r
        return self.w([
            (5, lambda: str(r.randint(0, 70000))),
            (2, lambda: "-" + str(r.randint(0, 5000))),
            (4, lambda: str(r.randint(0, 999)) + r.choice(SUFFIXES)),
            (1, lambda: r.choice(["9223372036854775807", "9223372036854775808", "-1", "0", "1k", "8e", "16Ei"])),
        ])

    def bool_lit(self):
        return self.choice(["true", "false", "yes", "no", "on", "off", "TRUE", "Off", "YeS"])

    def float_lit(self):
        r = self.r
        return self.w([
            (3, lambda: f"{r.randint(-99, 999)}.{r.randint(0, 9999)}"),
            (1, lambda: r.choice(["1.5e3", "1.0", "0.000001", "0.0000001", "1e-7", "1.5k", "1.", "-.5",
                                  "3.14.15", "1.2e", "123456789012345678901234.5", "1.1.1.1", "-1.5x"])),
        ])

    def sq_string(self):
        body = "".join(self.r.choice(["a", " ", "#", "//", "\\", "\"", "é", "x", "$v", "\\n"])
                       for _ in range(self.r.randint(0, 6)))
        return "'" + body + "'"

    def dq_string(self):
        parts = []
        for _ in range(self.r.randint(0, 6)):
            parts.append(self.w([
                (3, lambda: self.r.choice(["a", " ", "#", "//", "'", "é", "日", "$x", "}", "]", ",", ";", "<&>"])),
                (2, lambda: self.r.choice(ESCAPES)),
            ]))
        return '"' + "".join(parts) + '"'

    def block_string(self):
        lines = [self.r.choice(["line one", "  (nested)", "x = 1", "# not comment", ")x", " )", ""])
                 for _ in range(self.r.randint(0, 3))]
        end = self.r.choice(["\n)", "\n)", "\n  )", ")", "\n) ", "\n)x"])
        return "(\n" + "\n".join(lines) + end

    def var_ref(self):
        pool = self.vars + list(ENV) + ["undefined_var", "2a$10$abcdefghijklmnopqrstuu", "CD_NUM", "x"]
        return "$" + self.choice(pool)

    def scalar(self):
        return self.w([
            (4, self.int_lit),
            (2, self.float_lit),
            (2, self.bool_lit),
            (4, lambda: self.choice(BARE_WORDS)),
            (3, self.dq_string),
            (2, self.sq_string),
            (1, self.block_string),
            (3, self.var_ref),
        ])

    def value(self, depth=0):
        if depth >= self.depth_limit:
            return self.scalar()
        return self.w([
            (8, self.scalar),
            (2, lambda: self.array(depth + 1)),
            (2, lambda: self.map(depth + 1)),
        ])

    def sep_kv(self):
        return self.choice([" = ", "=", ": ", ":", " ", "\t", "  =  ", " :", " =\t"])

    def item_end(self):
        return self.w([
            (10, lambda: ""),
            (2, lambda: self.choice([";", ",", " ;", " ,"])),
            (2, lambda: " " + self.choice(["# c", "// c", "#", "//", "#}", "// ]"])),
        ])

    def key(self):
        return self.w([
            (5, lambda: self.choice(["a", "b", "c", "k1", "x_y", "foo-bar", "a.b", "K", "é", "日本"])),
            (2, lambda: '"' + self.choice(["a b", "x", "k=v", "", "a:b", "#"]) + '"'),
            (1, lambda: "'" + self.choice(["s q", "y", ""]) + "'"),
            (1, lambda: self.choice(["include", "1", "-a", "$a", "a$", "a/b", "a//b"])),
        ])

    def array(self, depth):
        n = self.r.randint(0, 4)
        items = [self.value(depth) for _ in range(n)]
        seps = [self.choice([", ", ",", "\n", " ,\n", ",\n", " // c\n", " # c\n", ",,"]) for _ in range(n)]
        out = "["
        for i, v in enumerate(items):
            out += self.choice(["", " ", "\n", "\n  "]) + v
            if i + 1 < n:
                out += seps[i]
        out += self.choice(["", ",", " ", "\n", ", "]) + "]"
        return out

    def map(self, depth):
        n = self.r.randint(0, 4)
        out = "{"
        local = []
        for i in range(n):
            k = self.key()
            if self.r.random() < 0.25 and local:
                v = "$" + self.choice(local)
            else:
                v = self.value(depth)
            local.append(k.strip("\"'"))
            out += self.choice(["", " ", "\n", "\n  "]) + k + self.sep_kv() + v + self.item_end()
            if i + 1 < n:
                out += self.choice(["\n", ", ", ";", ",\n", " "])
        out += self.choice(["", " ", "\n", ",", ";"]) + "}"
        return out

    def auth_block(self):
        fields = [
            f"user{self.sep_kv()}{self.choice(['alice', '$u', '1', '[a]'])}",
            f"password{self.sep_kv()}{self.choice(['secret', '$2a$11$abcdefghijklmnopqrstuv', '{}', '2'])}",
            f"token{self.sep_kv()}{self.choice(['t0k', '1k', 'true'])}",
            f"timeout{self.sep_kv()}{self.choice(['1', '0.5', 'x', DQ_2S, '-1'])}",
            f"users{self.sep_kv()}{self.choice(['[{user: a, password: b}]', '[]', 'x', '[{user: a}, {nkey: x}]'])}",
            f"{self.key()}{self.sep_kv()}{self.scalar()}",
        ]
        picked = self.r.sample(fields, self.r.randint(0, 3))
        return "{ " + "\n  ".join(picked) + " }"

    def ws_block(self):
        fields = [
            f"port{self.sep_kv()}{self.int_lit()}",
            f"no_tls{self.sep_kv()}{self.bool_lit()}",
            f"compression{self.sep_kv()}{self.choice(['true', '1', 'x'])}",
            f"same_origin{self.sep_kv()}{self.bool_lit()}",
            f"allowed_origins{self.sep_kv()}{self.choice([DQ_ORIGINS, 'http://b', '[1]', '[]'])}",
            f"handshake_timeout{self.sep_kv()}{self.choice([DQ_2S, '2', 'x', '1.5'])}",
            f"listen{self.sep_kv()}{self.choice(['127.0.0.1:0', DQ_X, '8080'])}",
            f"{self.key()}{self.sep_kv()}{self.scalar()}",
        ]
        picked = self.r.sample(fields, self.r.randint(0, 4))
        return "{\n  " + "\n  ".join(picked) + "\n}"

    def accounts_block(self):
        return self.choice([
            "{ A: { users: [ {user: a, password: b} ] } }",
            "{ A: {} , B: {users: []} }",
            "[A, B]",
            "{ A: { users: [ {user: a} ], default_permissions: {} } }",
            "{ A: 1 }",
            "{ $SYS: {} }",
        ]) if self.r.random() < 0.7 else self.value(1)

    def system_key(self):
        base = self.choice(["system", "system_account"])
        while True:
            k = "".join(c.upper() if self.r.random() < 0.5 else c for c in base)
            if k != base:
                return k

    def entry(self):
        """One top-level entry (without the trailing separator)."""
        def tree():
            return self.system_key() + self.sep_kv() + self.value()

        def known():
            name, fit = self.choice(KNOWN)
            v = fit(self) if self.r.random() < 0.6 else self.value()
            if self.r.random() < 0.1:
                name = name.upper()
            return name + self.sep_kv() + v

        def var_def():
            name = self.choice(["v", "w", "u", "x", "CD_NUM", "v2"])
            self.vars.append(name)
            return name + self.sep_kv() + self.value()

        def unknown():
            return self.key() + self.sep_kv() + self.value()

        def include():
            name = f"inc{len(self.includes)}.conf"
            body = "\n".join(self.system_key() + self.sep_kv() + self.value() for _ in range(self.r.randint(0, 2)))
            if self.r.random() < 0.2:
                body = self.choice(["port = \n", "x {", "", "# only comment", "SYSTEM: $v"])
            self.includes[name] = body + self.choice(["", "\n"])
            target = self.choice([name, name, "missing.conf", "sub/../" + name, "."])
            return "include " + self.choice([target, f'"{target}"', f"'{target}'", f"  {target}"])

        def comment():
            return self.choice(["# comment", "// comment", "#", "//", "/ not comment", "# { [", "//}"])

        return self.w([(6, tree), (4, known), (2, var_def), (1, unknown), (1, include), (1, comment)])

    def document(self):
        n = self.r.randint(0, 7)
        lines = []
        for _ in range(n):
            lines.append(self.entry() + self.item_end())
        joiners = ["\n", "\n", "\n\n", "\r\n", "; ", ", ", "\n  "]
        out = ""
        for i, line in enumerate(lines):
            out += line
            if i + 1 < len(lines):
                out += self.choice(joiners)
        if self.r.random() < 0.05:
            out = "{\n" + out + "\n}"
        return out + self.choice(["", "\n", "\n", " ", "\n# end"])

    def mutate(self, text):
        r = self.r
        s = list(text)
        for _ in range(r.randint(1, 3)):
            op = r.randint(0, 3)
            pos = r.randint(0, len(s)) if s else 0
            if op == 0 and s and pos < len(s):
                s[pos] = r.choice(MUTATION_CHARS)
            elif op == 1:
                s.insert(pos, r.choice(MUTATION_CHARS))
            elif op == 2 and s and pos < len(s):
                del s[pos]
            else:
                s = s[:pos]
        return "".join(s)


def make_case(seed, index):
    rng = random.Random(f"{seed}:{index}")
    g = Gen(rng)
    kind = rng.random()
    if kind < 0.02:
        text = rng.choice(["", " ", "\n", "# only", "//", "\n\n\t ", "{}", "{", "}", ";", "=", "a"])
    else:
        text = g.document()
        if kind < 0.3:
            text = g.mutate(text)
    # `\x` before a non-ASCII character: Go's error quotes a lone byte of it (not UTF-8).
    text = NON_UTF8_ESCAPE.sub(r"\\t", text)
    return text, dict(g.includes)


def run_one(binary, workdir, name):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **ENV}
    try:
        p = subprocess.run([binary, "-t", "-c", name], cwd=workdir, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT)
        return (p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired:
        # subprocess.run kills and reaps the child before raising.
        return ("timeout", b"", b"")


NON_UTF8_ESCAPE = re.compile(r"\\x(?=.?[^\x00-\x7f])")
PROG = re.compile(rb"^(nats-server|nats-ws-server): ")


def normalise(result):
    """Replaces the program name; on failure sorts the error lines, because Go reports
    option errors in its map iteration order, which is random."""
    rc, out, err = result
    out, err = PROG.sub(b"", out), PROG.sub(b"", err)
    if rc != 0:
        err = b"\n".join(sorted(err.split(b"\n")))
    return (rc, out, err)


def compare(args, text, includes, workdir):
    """Writes the case into workdir and returns (go, ours) normalised results."""
    os.makedirs(workdir, exist_ok=True)
    for name, body in includes.items():
        with open(os.path.join(workdir, name), "w", encoding="utf-8", newline="") as f:
            f.write(body)
    with open(os.path.join(workdir, "main.conf"), "w", encoding="utf-8", newline="") as f:
        f.write(text)
    go = run_one(args.go, workdir, "main.conf")
    ours = run_one(args.ours, workdir, "main.conf")
    # Go walks maps in random order, and a recovered panic ends the rest of a block, so
    # which errors Go reports can change from run to run: ours must match one of them.
    for _ in range(GO_RERUNS):
        if same(go, ours):
            break
        go = run_one(args.go, workdir, "main.conf")
    return go, ours


def same(go, ours):
    return normalise(go) == normalise(ours)


MASK = re.compile(rb'sha256:[0-9a-f]+|"[^"\n]*"|\d+|main\.conf|inc\d\.conf')


def kind_of(go, ours):
    def first(r):
        text = PROG.sub(b"", r[2] or r[1]).split(b"\n")[0]
        return MASK.sub(b"_", text)[:120]
    return (str(go[0]), str(ours[0]), first(go), first(ours))


def minimise(args, text, includes, workdir, want, budget=400):
    """Delta debugging on lines, then characters, keeping a difference of kind `want`
    (so that it does not drift into another difference, or into a documented one)."""
    tries = [0]

    def differs(candidate):
        if tries[0] >= budget:
            return False
        tries[0] += 1
        go, ours = compare(args, candidate, includes, workdir)
        return not same(go, ours) and kind_of(go, ours) == want

    for unit in ("lines", "chars"):
        parts = text.splitlines(keepends=True) if unit == "lines" else list(text)
        n = 2
        while len(parts) >= 2 and tries[0] < budget:
            chunk = max(1, len(parts) // n)
            removed = False
            for start in range(0, len(parts), chunk):
                cand = parts[:start] + parts[start + chunk:]
                if differs("".join(cand)):
                    parts = cand
                    n = max(n - 1, 2)
                    removed = True
                    break
            if not removed:
                if chunk == 1:
                    break
                n = min(len(parts), n * 2)
        text = "".join(parts)
    return text


def write_diff(out_dir, label, text, includes, go, ours):
    d = os.path.join(out_dir, label)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "main.conf"), "w", encoding="utf-8", newline="") as f:
        f.write(text)
    for name, body in includes.items():
        with open(os.path.join(d, name), "w", encoding="utf-8", newline="") as f:
            f.write(body)
    for who, r in (("go", go), ("ours", ours)):
        with open(os.path.join(d, who + ".txt"), "wb") as f:
            f.write(b"exit: %s\n--- stdout\n%s--- stderr\n%s" % (str(r[0]).encode(), r[1], r[2]))
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--time-budget", type=float, default=0, help="seconds; 0 = no limit")
    ap.add_argument("--ours", default="target/debug/nats-ws-server")
    ap.add_argument("--go", default=".venv-peers/bin/nats-server")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "conf-diff"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--minimise", type=int, default=3, help="minimise this many inputs per kind")
    ap.add_argument("--show", type=int, help="print case INDEX and exit")
    args = ap.parse_args()
    args.ours = os.path.abspath(args.ours)
    args.go = os.path.abspath(args.go)

    if args.show is not None:
        text, includes = make_case(args.seed, args.show)
        for name, body in includes.items():
            print(f"=== {name}\n{body}")
        print(f"=== main.conf\n{text}")
        return 0
    for b in (args.ours, args.go):
        if not os.access(b, os.X_OK):
            sys.exit(f"conf-diff: missing binary {b}")

    scratch = tempfile.mkdtemp(prefix="conf-diff-")
    start = time.monotonic()
    deadline = start + args.time_budget if args.time_budget > 0 else None
    kinds = {}
    diffs = []
    ran = 0

    def one(index):
        text, includes = make_case(args.seed, index)
        wd = os.path.join(scratch, f"w{index}")
        go, ours = compare(args, text, includes, wd)
        if same(go, ours):
            shutil.rmtree(wd, ignore_errors=True)
        return index, text, includes, go, ours

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            index = 0
            pending = set()
            while index < args.cases or pending:
                while index < args.cases and len(pending) < args.jobs * 2 and not (deadline and time.monotonic() > deadline):
                    pending.add(pool.submit(one, index))
                    index += 1
                if not pending:
                    break
                done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for fut in done:
                    i, text, includes, go, ours = fut.result()
                    ran += 1
                    if not same(go, ours):
                        diffs.append((i, text, includes, go, ours))
        os.makedirs(args.out, exist_ok=True)
        for i, text, includes, go, ours in sorted(diffs, key=lambda d: d[0]):
            k = kind_of(go, ours)
            kinds.setdefault(k, []).append(i)
            wd = os.path.join(scratch, f"w{i}")
            if len(kinds[k]) <= args.minimise:
                text = minimise(args, text, includes, os.path.join(scratch, f"m{i}"), k)
                go, ours = compare(args, text, includes, os.path.join(scratch, f"m{i}"))
            d = write_diff(args.out, f"case-{i}", text, includes, go, ours)
            print(f"DIFF case {i} (replay: --seed {args.seed} --show {i}) -> {d}")
            print(f"  go:   {go[0]} {(go[2] or go[1]).decode(errors='replace').strip()[:200]!r}")
            print(f"  ours: {ours[0]} {(ours[2] or ours[1]).decode(errors='replace').strip()[:200]!r}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    took = time.monotonic() - start
    print(f"conf-diff: seed {args.seed}, {ran} cases in {took:.1f}s, {len(diffs)} differences, {len(kinds)} distinct kinds")
    for k, idx in kinds.items():
        print(f"  kind go={k[0]} ours={k[1]} x{len(idx)}: go {k[2].decode(errors='replace')!r} / ours {k[3].decode(errors='replace')!r}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
