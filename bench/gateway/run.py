#!/usr/bin/env python3
"""Gateway benchmark (issue 6): consentgate in gateway mode vs nginx as a plain reverse proxy (upstream
keep-alive on), in one run, in front of the same nginx origin; the origin directly as the ceiling.

For each target and response size (small ~1 KiB, large ~100 KiB) it runs wrk with 64 keep-alive
connections (origin-form requests, as a browser sends to a site) carrying a realistic consent cookie,
and reports requests/s, p50/p99 latency and the front server's CPU seconds per 10k requests (its whole
process tree, utime+stime from /proc). Medians of --runs runs.

consentgate gets a generated config: config/default.yaml with `mode: gateway`, the policies at their
absolute path, one route (any Host) to the origin, and the decision log in the temporary directory.
Everything listens on 127.0.0.1; every process started here is ended here, by its process group.

    bench/gateway/run.py [--consentgate build-rel/proxy/consentgate] [--consentgate-before OLD_BINARY]
                         [--runs 3] [--duration 10] [--sizes small,large] [--json FILE] [--markdown FILE]
"""
import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
_spec = importlib.util.spec_from_file_location("loadbench", os.path.join(REPO, "bench/load/run.py"))
lb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lb)


def gateway_config(tmp, origin_port, extra_yaml):
    """config/default.yaml turned into a gateway in front of the origin."""
    cfg = lb.load_default_config()
    cfg["mode"] = "gateway"
    cfg["log"] = os.path.join(tmp, "decisions.jsonl")
    listen_port = lb.free_port()
    gw = cfg.get("gateway") or {}
    gw["routes"] = [{"name": "bench", "listen": f"127.0.0.1:{listen_port}", "upstream": f"http://127.0.0.1:{origin_port}"}]
    gw.pop("consent_records", None)  # unset = off
    cfg["gateway"] = gw
    if extra_yaml:
        lb.deep_merge(cfg, yaml.safe_load(extra_yaml))
    path = os.path.join(tmp, "gateway.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path, listen_port


def start_consentgate_gateway(tmp, binary, origin_port, extra_yaml, name="consentgate-gateway"):
    sub = os.path.join(tmp, name)
    os.makedirs(sub, exist_ok=True)
    conf, port = gateway_config(sub, origin_port, extra_yaml)
    proc = subprocess.Popen([binary, "run", "--config", conf], stdout=open(os.path.join(sub, "consentgate.out"), "w"),
                            stderr=open(os.path.join(sub, "consentgate.err"), "w"), start_new_session=True)
    return lb.Target(name, proc, port, absolute=False)


def start_nginx_reverse(tmp, origin_port):
    port = lb.free_port()
    conf = lb.nginx_conf(tmp, "revproxy", f"""
  upstream origin {{ server 127.0.0.1:{origin_port}; keepalive 128; }}
  server {{ listen 127.0.0.1:{port};
    location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }} }}""")
    return lb.Target("nginx-reverse", lb.start(["nginx", "-c", conf, "-p", tmp], tmp, "revproxy"), port, False)


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model,
            "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}


def markdown(results, meta):
    lines = ["# Gateway (issue 6)", "", f"- machine: {meta['machine']['nproc']} cores, {meta['machine']['cpu']}",
             f"- load before: `{meta['machine']['uptime']}`", f"- load after: `{meta['uptime_after']}`",
             f"- command: `{meta['command']}`", "",
             "| size | target | req/s | p50 ms | p99 ms | CPU s/10k | non-2xx |", "|---|---|---:|---:|---:|---:|---:|"]
    for size in ("small", "large"):
        for name, r in results.items():
            if name.startswith("_") or size not in r:
                continue
            m = r[size]
            lines.append(f"| {size} | {name} | {m['rps']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
                         f"{m['cpu_s_per_10k']:.3f} | {m['non_2xx']:.0f} |")
    if results.get("_ratios"):
        lines += ["", "Ratios (consentgate gateway / nginx, same run):", ""]
        lines += [f"- {k}: {v:.2f}x" for k, v in results["_ratios"].items()]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--consentgate", default="", help="consentgate binary; empty measures nginx alone")
    ap.add_argument("--consentgate-before", default="",
                    help="a second consentgate binary (e.g. the previous commit) measured in the same run")
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small, large")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--extra-yaml", default="", help="top-level YAML merged into consentgate's config")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--keep-tmp", action="store_true")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    meta = {"machine": machine(), "command": " ".join(sys.argv)}
    tmp = tempfile.mkdtemp(prefix="consentgate-gw-bench-")
    targets, results = [], {}
    try:
        origin = lb.start_origin(tmp)
        if not lb.wait_port(origin.port):
            raise RuntimeError("origin did not start")
        targets = [origin, start_nginx_reverse(tmp, origin.port)]
        if args.consentgate_before:
            targets.append(start_consentgate_gateway(tmp, args.consentgate_before, origin.port, args.extra_yaml,
                                                     "consentgate-before"))
        if args.consentgate:
            targets.append(start_consentgate_gateway(tmp, args.consentgate, origin.port, args.extra_yaml))
        for t in targets[1:]:
            if not lb.wait_port(t.port, 30):
                print(f"# {t.name} did not start; skipped (see {tmp})", file=sys.stderr)
        targets = [t for t in targets if t.proc.poll() is None]
        for size in args.sizes.split(","):
            for t in targets:
                env = {"COOKIE": lb.COOKIE, "TARGET_PATH": f"/{size}"}
                runs = []
                for _ in range(args.runs):
                    cpu0 = lb.cpu_seconds(t.proc.pid)
                    r = lb.run_wrk(t.port, os.path.join(HERE, "../load/origin.lua"), env, args.duration,
                                   args.connections)
                    r["cpu_s_per_10k"] = (lb.cpu_seconds(t.proc.pid) - cpu0) / max(r["requests"], 1) * 10000
                    runs.append(r)
                med = {k: statistics.median([r[k] for r in runs if r[k] == r[k]] or [float("nan")]) for k in runs[0]}
                results.setdefault(t.name, {})[size] = med
                results[t.name].setdefault("runs", {})[size] = runs
                print(f"{size:5} {t.name:20} {med['rps']:9.0f} req/s  p50 {med['p50_ms']:6.2f} ms  "
                      f"p99 {med['p99_ms']:6.2f} ms  cpu {med['cpu_s_per_10k']:.3f} s/10k  "
                      f"non-2xx {med['non_2xx']:.0f}", flush=True)
    finally:
        for t in targets:
            lb.stop(t.proc)
    ratios = {}
    ng = results.get("nginx-reverse", {})
    for name, label in (("consentgate-gateway", ""), ("consentgate-before", "before ")):
        cg = results.get(name, {})
        for size in ("small", "large"):
            if size in cg and size in ng:
                ratios[f"{label}{size}: req/s"] = cg[size]["rps"] / ng[size]["rps"]
                ratios[f"{label}{size}: CPU per request"] = cg[size]["cpu_s_per_10k"] / ng[size]["cpu_s_per_10k"]
                ratios[f"{label}{size}: p99"] = cg[size]["p99_ms"] / ng[size]["p99_ms"]
    results["_ratios"] = ratios
    if ratios:
        print("\n# ratios (consentgate gateway / nginx)\n" + "\n".join(f"{k}: {v:.2f}x" for k, v in ratios.items()))
    meta["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results["_meta"] = meta
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(results, meta))
    if args.keep_tmp:
        print(f"# kept {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
