#!/usr/bin/env python3
"""Forward-proxy load benchmark (issue 3): direct to the origin, through consentgate, and through the
peers that are installed (squid, tinyproxy, privoxy; nginx as a reverse proxy for reference), in one run.

For each target and response size it runs wrk with 64 keep-alive connections and reports requests/s,
p50/p99 latency and the proxy's CPU seconds per 10k requests (utime+stime of its whole process tree, from
/proc). Then it opens 2,000 idle keep-alive connections (one exchange each) and reports the proxy's RSS
growth per idle connection. Everything listens on 127.0.0.1; every process started here is ended here.

    bench/load/run.py --consentgate build-rel/proxy/consentgate [--runs 3] [--duration 10]
                      [--json FILE] [--markdown FILE]

Figures are informative (never pass/fail); the summary prints the ratios the issue sets as targets.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

# A realistic visitor: a CNIL-style consent cookie granting audience measurement only, a first-party
# session, a Google Analytics id and a Meta pixel id (whose purpose is refused, so consentgate strips it).
COOKIE = ('eu-consent={"audience-measurement":true,"advertising":false,"social-media":false,'
          '"ts":%d}; sessionid=8f14e45fceea167a5a36dedd4bea2543; _ga=GA1.2.1234567890.1700000000; '
          '_fbp=fb.1.1700000000000.1234567890' % int(time.time()))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline_s=15.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def process_tree(root):
    """PIDs of root and all its descendants (squid and nginx fork workers)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(root):
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLK_TCK


def rss_kib(root):
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KIB
        except OSError:
            pass
    return total


def parse_duration_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not m:  # wrk prints "-nan" when a run completed no request
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port, script, env, duration, connections):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script,
           f"http://127.0.0.1:{port}/"]
    out = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True,
                         timeout=duration + 30).stdout
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        p50 = parse_duration_ms(re.search(r"50%\s+(\S+)", out).group(1))
        p99 = parse_duration_ms(re.search(r"99%\s+(\S+)", out).group(1))
    except AttributeError:
        print(f"# wrk output not understood:\n{out}", file=sys.stderr)
        rps, requests, p50, p99 = 0.0, 0, float("nan"), float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "requests": requests, "p50_ms": p50, "p99_ms": p99,
            "non_2xx": int(errors.group(1)) if errors else 0}


def idle_connections(port, count, request):
    """Opens `count` keep-alive connections, does one exchange on each, and keeps them open."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        socks.append(s)
    for s in socks:
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        m = re.search(rb"[Cc]ontent-[Ll]ength:\s*(\d+)", got)
        body_left = int(m.group(1)) - len(got.split(b"\r\n\r\n", 1)[1]) if m else 0
        while body_left > 0:
            chunk = s.recv(min(body_left, 65536))
            if not chunk:
                break
            body_left -= len(chunk)
    return socks


def machine():
    """What the figures were measured on, and how busy it was (other builds share the cores)."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model,
            "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}


def markdown(results, meta):
    lines = ["# Plain HTTP forward proxy (issue 3)", "", f"- machine: {meta['machine']['nproc']} cores, "
             f"{meta['machine']['cpu']}", f"- load before: `{meta['machine']['uptime']}`",
             f"- load after: `{meta['uptime_after']}`", f"- command: `{meta['command']}`", "",
             "| size | target | req/s | p50 ms | p99 ms | CPU s/10k | non-2xx |", "|---|---|---:|---:|---:|---:|---:|"]
    for size in ("small", "large"):
        for name, r in results.items():
            if name.startswith("_") or size not in r:
                continue
            m = r[size]
            lines.append(f"| {size} | {name} | {m['rps']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
                         f"{m['cpu_s_per_10k']:.3f} | {m['non_2xx']:.0f} |")
    lines += ["", "| target | idle KiB per keep-alive connection |", "|---|---:|"]
    for name, r in results.items():
        if not name.startswith("_") and "idle_kib_per_connection" in r:
            lines.append(f"| {name} | {r['idle_kib_per_connection']:.1f} |")
    sys_rows = [(n, r["syscalls"]) for n, r in results.items() if not n.startswith("_") and "syscalls" in r]
    if sys_rows:
        lines += ["", "System calls per exchange (strace -c -f, small responses; strace slows the target, "
                  "only the counts matter):", ""]
        for name, sc in sys_rows:
            parts = ", ".join(f"{k} {v:.2f}" for k, v in sc["by_call"].items())
            lines.append(f"- {name}: **{sc['per_exchange']:.2f}** ({parts})")
    if results.get("_ratios"):
        lines += ["", "Ratios (consentgate / peer, same run):", ""]
        lines += [f"- {k}: {v:.2f}x" for k, v in results["_ratios"].items()]
    return "\n".join(lines) + "\n"


def count_syscalls(t, origin_port, seconds, tmp):
    """System calls per exchange of target `t`'s process tree (all threads) during a small-response wrk run.
    strace slows the target a lot: only the per-exchange counts mean something, not the rate."""
    out = os.path.join(tmp, f"{t.name}.strace")
    cmd = ["strace", "-c", "-f", "-o", out]
    for pid in process_tree(t.proc.pid):
        cmd += ["-p", str(pid)]
    tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.0)  # attached before the load starts
    url = f"http://127.0.0.1:{origin_port}/small"
    env = {"COOKIE": COOKIE, "TARGET_URL": url, "TARGET_PATH": "/small"}
    script = os.path.join(HERE, "absolute.lua" if t.absolute else "origin.lua")
    r = run_wrk(t.port, script, env, seconds, 64)
    os.killpg(tracer.pid, signal.SIGINT)  # detaches and writes the summary
    tracer.wait(timeout=30)
    by_call = {}
    with open(out) as f:
        for line in f:
            fields = line.split()
            # "% time seconds usecs/call calls [errors] syscall"
            if len(fields) >= 5 and fields[0][0].isdigit() and fields[-1] != "total":
                by_call[fields[-1]] = int(fields[3])
    n = max(r["requests"], 1)
    ranked = dict(sorted(((k, v / n) for k, v in by_call.items() if v / n >= 0.01), key=lambda kv: -kv[1]))
    return {"requests": r["requests"], "per_exchange": sum(by_call.values()) / n, "by_call": ranked}


class Target:
    def __init__(self, name, proc, port, absolute):
        self.name, self.proc, self.port, self.absolute = name, proc, port, absolute


def start(cmd, tmp, name, **kw):
    log = open(os.path.join(tmp, f"{name}.log"), "w")
    return subprocess.Popen(cmd, stdout=kw.pop("stdout", log), stderr=log, start_new_session=True, **kw)


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def nginx_conf(tmp, name, body):
    path = os.path.join(tmp, f"{name}.conf")
    with open(path, "w") as f:
        f.write(f"""
worker_processes {os.cpu_count()};
daemon off;
pid {tmp}/{name}.pid;
error_log {tmp}/{name}.err warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path {tmp}/{name}-body;
  proxy_temp_path {tmp}/{name}-proxy;
  {body}
}}
""")
    return path


def start_origin(tmp):
    root = os.path.join(tmp, "www")
    os.makedirs(root)
    # nginx's workers run as "nobody" when it starts as root: they must reach the files.
    os.chmod(tmp, os.stat(tmp).st_mode | 0o711)
    os.chmod(root, 0o755)
    with open(os.path.join(root, "small"), "wb") as f:
        f.write(b"x" * 1024)
    with open(os.path.join(root, "large"), "wb") as f:
        f.write(b"y" * 100 * 1024)
    port = free_port()
    conf = nginx_conf(tmp, "origin", f"server {{ listen 127.0.0.1:{port}; root {root}; "
                                     f"default_type application/octet-stream; }}")
    proc = start(["nginx", "-c", conf, "-p", tmp], tmp, "origin")
    return Target("direct", proc, port, absolute=False)


def deep_merge(base, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


def load_default_config():
    """config/default.yaml as a dict. PyYAML (YAML 1.1) cannot read a plain `::1/128` inside a flow
    sequence, which yaml-cpp accepts: such IPv6 items are quoted first."""
    import yaml  # python3-yaml; only needed for generated configs
    base = os.path.join(REPO, "config/default.yaml")
    with open(base) as f:
        text = re.sub(r"(?<=[\[, ])(::[0-9A-Fa-f:./]*)(?=[,\]])", r'"\1"', f.read())
    cfg = yaml.safe_load(text)
    cfg["policies"] = [p if os.path.isabs(p) else os.path.join(os.path.dirname(base), p)
                       for p in cfg.get("policies", [])]
    return cfg


def variant_config(tmp, name, extra_yaml):
    """config/default.yaml with `extra_yaml` merged in (policy paths made absolute), for what-if runs."""
    import yaml
    cfg = load_default_config()
    deep_merge(cfg, yaml.safe_load(extra_yaml) or {})
    path = os.path.join(tmp, f"{name}.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


def start_consentgate(tmp, binary, origin_port, name="consentgate", config=None):
    port_line = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
    proc = subprocess.Popen([binary, "run", "--config", config or os.path.join(REPO, "config/default.yaml"),
                             "--listen", "127.0.0.1:0", "--log", os.path.join(tmp, f"{name}-decisions.jsonl")],
                            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, f"{name}.err"), "w"),
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = port_line.search(line or "")
        if m:
            return Target(name, proc, int(m.group(1)), absolute=True)
        if proc.poll() is not None:
            break
    stop(proc)
    raise RuntimeError("consentgate did not print its listening address")


def start_peers(tmp, origin_port, wanted):
    peers = []
    if "nginx" in wanted and shutil.which("nginx"):
        port = free_port()
        conf = nginx_conf(tmp, "revproxy", f"""
  upstream origin {{ server 127.0.0.1:{origin_port}; keepalive 128; }}
  server {{ listen 127.0.0.1:{port};
    location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}""")
        peers.append(Target("nginx-reverse", start(["nginx", "-c", conf, "-p", tmp], tmp, "revproxy"), port, False))
    if "squid" in wanted and shutil.which("squid"):
        port = free_port()
        conf = os.path.join(tmp, "squid.conf")
        os.chmod(tmp, 0o777)
        with open(conf, "w") as f:
            f.write(f"""http_port 127.0.0.1:{port}
http_access allow all
cache deny all
access_log none
cache_log {tmp}/squid-cache.log
pid_filename {tmp}/squid.pid
coredump_dir {tmp}
max_filedescriptors 16384
shutdown_lifetime 1 seconds
""")
        peers.append(Target("squid", start(["squid", "-N", "-f", conf], tmp, "squid"), port, True))
    if "tinyproxy" in wanted and shutil.which("tinyproxy"):
        port = free_port()
        conf = os.path.join(tmp, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write(f"Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 4096\nAllow 127.0.0.1\n"
                    f"LogLevel Critical\nDisableViaHeader Yes\n")
        peers.append(Target("tinyproxy", start(["tinyproxy", "-d", "-c", conf], tmp, "tinyproxy"), port, True))
    if "privoxy" in wanted and shutil.which("privoxy"):
        port = free_port()
        conf = os.path.join(tmp, "privoxy.conf")
        with open(conf, "w") as f:
            f.write(f"confdir /etc/privoxy\nlogdir {tmp}\nlisten-address 127.0.0.1:{port}\n"
                    f"keep-alive-timeout 300\nconnection-sharing 1\nmax-client-connections 4096\n"
                    f"socket-timeout 300\n")
        peers.append(Target("privoxy", start(["privoxy", "--no-daemon", conf], tmp, "privoxy"), port, True))
    return peers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--consentgate", default=os.path.join(REPO, "build/release/proxy/consentgate"))
    ap.add_argument("--runs", type=int, default=3, help="runs per target and size; the median is reported")
    ap.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--idle", type=int, default=2000, help="idle keep-alive connections for the memory figure")
    ap.add_argument("--peers", default="nginx,squid,tinyproxy,privoxy")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--markdown", help="also write a markdown table to this file")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=YAML",
                    help="also run consentgate with this YAML merged into its config (repeatable), e.g. "
                         "pool128='{limits: {upstream_pool_per_host: 128}}'")
    ap.add_argument("--baseline", action="append", default=[], metavar="NAME=BINARY",
                    help="also run another consentgate binary (e.g. a build of main before a change) in the "
                         "same run, as consentgate-NAME (repeatable)")
    ap.add_argument("--syscalls", type=int, default=0, metavar="SECONDS",
                    help="after the load runs, count system calls per exchange (strace -c -f) of each "
                         "consentgate and of nginx-reverse during a small-response wrk run of SECONDS")
    ap.add_argument("--perf", help="perf record -g consentgate during its first small-response run, into this file")
    args = ap.parse_args()
    meta = {"machine": machine(), "command": " ".join(sys.argv)}

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    tmp = tempfile.mkdtemp(prefix="consentgate-bench-")
    targets, results = [], {}
    try:
        origin = start_origin(tmp)
        if not wait_port(origin.port):
            raise RuntimeError("origin did not start")
        targets = [origin]
        if args.consentgate:  # an empty path measures the peers alone
            targets.append(start_consentgate(tmp, args.consentgate, origin.port))
            for spec in args.variant:
                name, _, extra = spec.partition("=")
                targets.append(start_consentgate(tmp, args.consentgate, origin.port, f"consentgate-{name}",
                                                 variant_config(tmp, name, extra)))
            for spec in args.baseline:
                name, _, binary = spec.partition("=")
                targets.append(start_consentgate(tmp, binary, origin.port, f"consentgate-{name}"))
        targets += start_peers(tmp, origin.port, args.peers.split(","))
        for t in targets[1:]:
            if not wait_port(t.port):
                print(f"# {t.name} did not start; skipped (see {tmp}/{t.name}.log)", file=sys.stderr)
        targets = [t for t in targets if t.proc.poll() is None]
        for size in ("small", "large"):
            for t in targets:
                url = f"http://127.0.0.1:{origin.port}/{size}"
                env = {"COOKIE": COOKIE, "TARGET_URL": url, "TARGET_PATH": f"/{size}"}
                script = os.path.join(HERE, "absolute.lua" if t.absolute else "origin.lua")
                runs = []
                for i in range(args.runs):
                    perf = None
                    if args.perf and t.name == "consentgate" and size == "small" and i == 0:
                        # Sampling costs a little CPU: this run's figures are slightly pessimistic.
                        perf = subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", "dwarf,16384", "-o", args.perf, "-p",
                                                 str(t.proc.pid), "--", "sleep", str(max(1, args.duration - 2))],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    cpu0 = cpu_seconds(t.proc.pid)
                    r = run_wrk(t.port, script, env, args.duration, args.connections)
                    if perf is not None:
                        perf.wait(timeout=60)
                    r["cpu_s_per_10k"] = (cpu_seconds(t.proc.pid) - cpu0) / max(r["requests"], 1) * 10000
                    runs.append(r)
                med = {k: statistics.median([r[k] for r in runs if r[k] == r[k]] or [float("nan")]) for k in runs[0]}
                results.setdefault(t.name, {})[size] = med
                results[t.name].setdefault("runs", {})[size] = runs
                print(f"{size:5} {t.name:14} {med['rps']:9.0f} req/s  p50 {med['p50_ms']:6.2f} ms  "
                      f"p99 {med['p99_ms']:6.2f} ms  cpu {med['cpu_s_per_10k']:.3f} s/10k  "
                      f"non-2xx {med['non_2xx']:.0f}", flush=True)
        if args.syscalls > 0:
            for t in targets:
                if t.name.startswith("consentgate") or t.name == "nginx-reverse":
                    sc = count_syscalls(t, origin.port, args.syscalls, tmp)
                    results.setdefault(t.name, {})["syscalls"] = sc
                    print(f"sys   {t.name:14} {sc['per_exchange']:.2f} syscalls per exchange "
                          f"({', '.join(f'{k} {v:.2f}' for k, v in sc['by_call'].items())})", flush=True)
        for t in targets:
            if t.name in ("direct",) or args.idle <= 0:
                continue
            target = f"http://127.0.0.1:{origin.port}/small" if t.absolute else "/small"
            req = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\nCookie: {COOKIE}\r\n\r\n").encode()
            idle_connections(t.port, 50, req)  # warm allocator pools before the baseline
            time.sleep(0.5)
            before = rss_kib(t.proc.pid)
            socks = idle_connections(t.port, args.idle, req)
            time.sleep(1.0)
            after = rss_kib(t.proc.pid)
            for s in socks:
                s.close()
            per = (after - before) / args.idle
            results.setdefault(t.name, {})["idle_kib_per_connection"] = per
            print(f"idle  {t.name:14} {per:6.1f} KiB per idle keep-alive connection "
                  f"({args.idle} connections, RSS {before} -> {after} KiB)", flush=True)
    finally:
        for t in targets:
            stop(t.proc)
    ratios = {}
    for cg_name in [n for n in results if n.startswith("consentgate")]:
        cg = results[cg_name]
        label = "" if cg_name == "consentgate" else f"{cg_name} "
        for size in ("small", "large"):
            for peer in ("squid", "nginx-reverse", "tinyproxy", "privoxy"):
                if peer in results and size in cg and size in results[peer]:
                    p, c = results[peer][size], cg[size]
                    ratios[f"{label}{size}: req/s vs {peer}"] = c["rps"] / p["rps"]
                    ratios[f"{label}{size}: CPU per request vs {peer}"] = c["cpu_s_per_10k"] / p["cpu_s_per_10k"]
                    ratios[f"{label}{size}: p99 vs {peer}"] = c["p99_ms"] / p["p99_ms"]
    results["_ratios"] = ratios
    print("\n# ratios (consentgate / peer)\n" + "\n".join(f"{k}: {v:.2f}x" for k, v in ratios.items()))
    meta["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results["_meta"] = meta
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(results, meta))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
