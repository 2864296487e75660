#!/usr/bin/env python3
"""Start time of wbpf runs, interleaved: spawn -> the output that says a run has started.

Usage: [N=21] python3 scripts/ttfl.py BEFORE-WBPF AFTER-WBPF   (as root, from the repository)

Both binaries run the same variants (BENCHMARKS.md, issue 12 change 10): bare objects
(wbpf run APP.bpf.o, until the "attached" line on stderr) with a warm --cache-dir and with
--no-cache, and two C guests (bootstrap --also runqlat, until both guests' first lines on
stdout) with --no-cache, with a warm compilation cache but no CO-RE entries (core/ removed
before each run: a kernel update), and warm. Each side has cache directories of its own, filled
by one run first. Each run is ended with SIGINT once its output is there. Round r starts at
variant r (rotation), before and after of a variant side by side. Per variant: the median
(min-max) of the time to output, of the process's whole CPU time (user+sys, from wait4, start
to exit after SIGINT) and of its peak RSS (VmHWM, read just before SIGINT).
"""
import os, selectors, signal, statistics, subprocess, sys, time, shutil

def run_once(argv, done, pre=None, timeout=30):
    if pre:
        shutil.rmtree(pre, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, "out")
    sel.register(p.stderr, selectors.EVENT_READ, "err")
    bufs = {"out": b"", "err": b""}
    seen = []
    elapsed = None
    while elapsed is None:
        if time.perf_counter() - t0 > timeout:
            break
        for key, _ in sel.select(timeout=1):
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            bufs[key.data] += chunk
            while b"\n" in bufs[key.data]:
                line, bufs[key.data] = bufs[key.data].split(b"\n", 1)
                seen.append((key.data, line.decode(errors="replace")))
            if done(seen):
                elapsed = time.perf_counter() - t0
                break
        if not sel.get_map():
            break
    hwm = 0.0
    try:
        for line in open(f"/proc/{p.pid}/status"):
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    p.send_signal(signal.SIGINT)
    deadline = time.perf_counter() + 10
    while sel.get_map() and time.perf_counter() < deadline:
        for key, _ in sel.select(timeout=1):
            if not os.read(key.fileobj.fileno(), 65536):
                sel.unregister(key.fileobj)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = status
    if elapsed is None:
        raise SystemExit(f"no first output from {argv}: {seen[:5]}")
    return elapsed * 1000, (ru.ru_utime + ru.ru_stime) * 1000, hwm

def variants(before, after, examples, work):
    v = []
    for side, bin in (("before", before), ("after", after)):
        d = os.path.join(work, side)
        boot, rq = os.path.join(examples, "bootstrap"), os.path.join(examples, "runqlat")
        group = [os.path.join(boot, "bootstrap.wasm"), "--also", os.path.join(rq, "runqlat.wasm")]
        v.append([
            {"label": f"bare bootstrap.bpf.o, warm --cache-dir, {side}", "until": "attached", "fill": True,
             "argv": [bin, "run", "--cache-dir", d, os.path.join(boot, "bootstrap.bpf.o")]},
            {"label": f"bare runqlat.bpf.o -i 1, warm --cache-dir, {side}", "until": "attached", "fill": True,
             "argv": [bin, "run", "--cache-dir", d, os.path.join(rq, "runqlat.bpf.o"), "--interval", "1"]},
            {"label": f"bare bootstrap.bpf.o, --no-cache, {side}", "until": "attached",
             "argv": [bin, "run", "--no-cache", os.path.join(boot, "bootstrap.bpf.o")]},
            {"label": f"bootstrap --also runqlat (C), --no-cache, {side}", "until": "boot+runqlat",
             "argv": [bin, "run", "--no-cache"] + group},
            {"label": f"bootstrap --also runqlat (C), warm compile, no core/, {side}", "until": "boot+runqlat",
             "fill": True, "pre": d + "-g/core", "argv": [bin, "run", "--cache-dir", d + "-g"] + group},
            {"label": f"bootstrap --also runqlat (C), warm, {side}", "until": "boot+runqlat", "fill": True,
             "argv": [bin, "run", "--cache-dir", d + "-w"] + group},
        ])
    return [x for pair in zip(*v) for x in pair]


def main():
    import tempfile
    if len(sys.argv) != 3:
        raise SystemExit("usage: [N=21] python3 scripts/ttfl.py BEFORE-WBPF AFTER-WBPF")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="wbpf-ttfl-")
    vs = variants(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), os.path.join(root, "examples"), work)
    try:
        measure(vs, int(os.environ.get("N", "21")))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(variants, n):
    conds = {
        "attached": lambda s: any(k == "err" and "attached" in l for k, l in s),
        "boot+runqlat": lambda s: any(k == "out" and l.startswith("TIME") for k, l in s) and any(k == "out" and l.startswith("Tracing") for k, l in s),
    }
    for v in variants:  # warm-up / fill caches
        if v.get("fill"):
            run_once(v["argv"], conds[v["until"]], v.get("pre"))
    res = {v["label"]: [] for v in variants}
    print("load at start:", open("/proc/loadavg").read().strip(), flush=True)
    for r in range(n):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            res[v["label"]].append(run_once(v["argv"], conds[v["until"]], v.get("pre")))
    print("load at end:", open("/proc/loadavg").read().strip())
    print(f'{"":62s} {"spawn->output, median (min-max)":>32s} {"CPU user+sys, whole run":>24s} {"peak RSS":>9s}')
    for v in variants:
        xs = [x[0] for x in res[v["label"]]]
        cs = [x[1] for x in res[v["label"]]]
        rs = [x[2] for x in res[v["label"]]]
        print(f'{v["label"]:62s} {statistics.median(xs):8.1f} ms ({min(xs):5.1f}-{max(xs):6.1f}) {statistics.median(cs):8.1f} ms ({min(cs):.0f}-{max(cs):.0f}) {statistics.median(rs):6.1f} MiB  n={len(xs)}')
    print("after / before, median of the rounds' ratios (time to output, CPU):")
    for b, a in zip(variants[0::2], variants[1::2]):
        rb, ra = res[b["label"]], res[a["label"]]
        t = statistics.median(y[0] / x[0] for x, y in zip(rb, ra))
        c = statistics.median(y[1] / x[1] for x, y in zip(rb, ra))
        print(f'  {b["label"].rsplit(", ", 1)[0]:60s} {t:5.2f}x  {c:5.2f}x')


if __name__ == "__main__":
    main()
