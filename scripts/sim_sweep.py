#!/usr/bin/env python3
"""Runs the lab suites in simulation mode (LAB_SIM=1) over many seeds, one
test process per (test, seed), and reports per suite: passes, failures (with
the command that replays each), and the wall and virtual time of running the
suite one test at a time. With --repeat it runs one test with one seed many
times and reports the distinct trace digests (exact replay: expect one).

    scripts/sim_sweep.py --seeds 1-20 --jobs 2                # raft, rsm, kvraft
    scripts/sim_sweep.py --seeds 1-3 -p raft --filter 3c
    scripts/sim_sweep.py --repeat 20 --seed 77 -p raft --filter figure8_unreliable_3c
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict

TRACE = re.compile(r"simulated: seed (\d+) digest ([0-9a-f]+) \((\d+) steps, ([0-9.]+) s virtual\)")


def test_binaries(packages):
    """(package, binary name, path, package dir) of every integration-test binary."""
    cmd = ["cargo", "test", "--no-run", "--message-format=json"]
    for p in packages:
        cmd += ["-p", p]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        target = msg["target"]
        if "test" not in target["kind"]:
            continue
        package = msg["package_id"].split("#")[0].rsplit("/", 1)[-1]
        package = re.sub(r"@.*", "", package)
        manifest_dir = os.path.dirname(target["src_path"])
        while manifest_dir and not os.path.exists(os.path.join(manifest_dir, "Cargo.toml")):
            manifest_dir = os.path.dirname(manifest_dir)
        found.append((package, target["name"], msg["executable"], manifest_dir))
    return found


def list_tests(binary):
    out = subprocess.run([binary, "--list", "--format", "terse"], capture_output=True, text=True).stdout
    return [line[: -len(": test")] for line in out.splitlines() if line.endswith(": test")]


def run_one(job):
    package, name, binary, cwd, test, seed, timeout = job
    env = dict(os.environ, LAB_SIM="1", LAB_SEED=str(seed), CARGO_PKG_NAME=package)
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [binary, "--exact", test, "--nocapture", "--test-threads", "1"],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
        )
        ok, output = proc.returncode == 0, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        ok, output = False, f"timed out after {timeout} s\n" + str(e.stdout or "")
    wall = time.monotonic() - start
    traces = TRACE.findall(output)
    virtual = sum(float(t[3]) for t in traces)
    digests = [t[1] for t in traces]
    return dict(package=package, binary=name, test=test, seed=seed, ok=ok, wall=wall,
                virtual=virtual, digests=digests, tail=output[-3000:] if not ok else "")


def seeds_of(text):
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-p", "--package", action="append", help="packages (default: raft rsm kvraft)")
    ap.add_argument("--filter", default="", help="only tests whose name contains this")
    ap.add_argument("--seeds", default="1-20", help="seed range, e.g. 1-20")
    ap.add_argument("--repeat", type=int, help="run each selected test this many times with --seed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--json", help="write every run's record here")
    args = ap.parse_args()
    packages = args.package or ["raft", "rsm", "kvraft"]

    jobs = []
    for package, name, binary, cwd in test_binaries(packages):
        if name == "kvsim_cli":
            continue  # drives the real-time kvsim binary
        for test in list_tests(binary):
            if args.filter and args.filter not in test:
                continue
            if args.repeat:
                seeds = [args.seed] * args.repeat
            else:
                seeds = seeds_of(args.seeds)
            for seed in seeds:
                jobs.append((package, name, binary, cwd, test, seed, args.timeout))
    if not jobs:
        sys.exit("sim_sweep: no test selected")
    print(f"sim_sweep: {len(jobs)} runs, {args.jobs} at a time", file=sys.stderr)

    began = time.monotonic()
    records = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for i, rec in enumerate(pool.map(run_one, jobs), 1):
            records.append(rec)
            if not rec["ok"]:
                print(f"FAIL {rec['binary']}::{rec['test']} seed {rec['seed']}\n{rec['tail']}", file=sys.stderr)
            if i % 50 == 0:
                print(f"sim_sweep: {i}/{len(jobs)} done", file=sys.stderr)
    elapsed = time.monotonic() - began

    if args.repeat:
        by_test = defaultdict(list)
        for r in records:
            by_test[(r["binary"], r["test"])].append(r)
        for (binary, test), runs in sorted(by_test.items()):
            digests = {tuple(r["digests"]) for r in runs}
            verdicts = {r["ok"] for r in runs}
            print(f"{binary}::{test} seed {args.seed}: {len(runs)} runs, "
                  f"{sum(r['ok'] for r in runs)} passed, {len(digests)} distinct digest(s) "
                  f"{sorted(digests)[:3]}, {len(verdicts)} distinct verdict(s)")
    else:
        suites = defaultdict(list)
        for r in records:
            suites[(r["package"], r["binary"])].append(r)
        print("| suite | tests | runs | passed | wall, one test at a time, per seed | virtual per seed | virtual / wall |")
        print("|---|---|---|---|---|---|---|")
        nseeds = len(seeds_of(args.seeds))
        for (package, binary), runs in sorted(suites.items()):
            tests = len({r["test"] for r in runs})
            wall = sum(r["wall"] for r in runs) / nseeds
            virtual = sum(r["virtual"] for r in runs) / nseeds
            passed = sum(r["ok"] for r in runs)
            ratio = virtual / wall if wall else 0
            print(f"| {package} {binary} | {tests} | {len(runs)} | {passed} | {wall:.1f} s | {virtual:.1f} s | {ratio:.1f} |")
        failures = [r for r in records if not r["ok"]]
        for r in failures:
            print(f"failed: LAB_SIM=1 LAB_SEED={r['seed']} cargo test -p {r['package']} --test {r['binary']} -- --exact {r['test']}")
        print(f"{len(records) - len(failures)} of {len(records)} runs passed in {elapsed:.0f} s with {args.jobs} jobs")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)
    sys.exit(0 if all(r["ok"] for r in records) else 1)


if __name__ == "__main__":
    main()
