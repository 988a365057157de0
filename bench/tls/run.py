#!/usr/bin/env python3
"""Intercepted-HTTPS benchmark (issue 4): the HTTPS origin directly (the load client's ceiling), then
consentgate, squid-openssl with ssl_bump and mitmproxy, in one run.

Per target, with bench/tls_load (CONNECT + TLS, SNI per host name, blocking threads):
  fresh   new connections/s (one request each) for --hosts host names the proxy has never seen: every
          connection makes it mint a leaf (a new name suffix per run, so every run mints again)
  cached  new connections/s over the same names again (leaves cached), for --duration seconds
  keep    keep-alive requests/s, 64 connections, small (1 KiB) responses, for --duration seconds
  idle    memory per idle intercepted connection: --idle connections after one exchange each, held open
          while the proxy's RSS (whole process tree, from /proc) is read
plus CPU seconds per 10k requests of the proxy (origin for "direct") during each phase, and consentgate's
own leaf minting time (bench/tls/leaf_mint.cpp) when its binary is given.

Every certificate is made here in a temporary directory: a test CA and a wildcard certificate for the
nginx origin (*.bench.test, IP 127.0.0.1), squid's bump CA and its certificate database, mitmproxy's
confdir, consentgate's data dir. Host names are mapped to the origin without touching /etc/hosts:
squid's hosts_file, a mitmproxy addon that rewrites the CONNECT target, consentgate's --connect-to.
Everything listens on 127.0.0.1; every process started here is ended here, by its process group.

    bench/tls/run.py --tls-load build-rel/bench/tls_load [--consentgate build-rel/proxy/consentgate]
                     [--leaf-mint build-rel/bench/leaf_mint_bench] [--runs 3] [--duration 10]
                     [--targets direct,consentgate,squid,mitmproxy] [--json FILE] [--markdown FILE]
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

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
_spec = importlib.util.spec_from_file_location("loadbench", os.path.join(REPO, "bench/load/run.py"))
lb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lb)

SUFFIX = ".bench.test"
COOKIE = lb.COOKIE


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, capture_output=True, timeout=60, **kw)


def make_ca(tmp, name, cn):
    key, cert = os.path.join(tmp, f"{name}-key.pem"), os.path.join(tmp, f"{name}.pem")
    sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
        "-keyout", key, "-out", cert, "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return cert, key


def make_origin_cert(tmp, ca_cert, ca_key):
    key, csr, cert = (os.path.join(tmp, n) for n in ("origin-key.pem", "origin.csr", "origin.pem"))
    ext = os.path.join(tmp, "origin.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:*{SUFFIX},DNS:{SUFFIX[1:]},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    sh(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=origin" + SUFFIX])
    sh(["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-days", "30",
        "-extfile", ext, "-out", cert])
    return cert, key


def start_origin(tmp, cert, key):
    root = os.path.join(tmp, "www")
    os.makedirs(root, exist_ok=True)
    # nginx's workers run as "nobody" when it starts as root: they must reach the files.
    os.chmod(tmp, os.stat(tmp).st_mode | 0o711)
    os.chmod(root, 0o755)
    with open(os.path.join(root, "small"), "wb") as f:
        f.write(b"x" * 1024)
    port = lb.free_port()
    conf = lb.nginx_conf(tmp, "origin", f"""server {{ listen 127.0.0.1:{port} ssl; root {root};
    ssl_certificate {cert}; ssl_certificate_key {key}; ssl_session_tickets off; ssl_session_cache off;
    default_type application/octet-stream; }}""")
    return lb.start(["nginx", "-c", conf, "-p", tmp], tmp, "origin"), port


class Proxy:
    def __init__(self, name, proc, port, cafile, connect_port):
        self.name, self.proc, self.port, self.cafile, self.connect_port = name, proc, port, cafile, connect_port


def all_names(runs):
    """Every host name a run uses: per-run suffixes for the fresh phase, one for keep-alive and idle."""
    suffixes = [f"-r{r}{SUFFIX}" for r in range(runs)] + [f"-k{SUFFIX}"]
    return suffixes


def start_squid(tmp, origin_port, hosts, runs):
    if not os.path.exists("/usr/lib/squid/security_file_certgen"):
        raise RuntimeError("squid-openssl is not installed (apt-get install -y squid-openssl)")
    cert, key = make_ca(tmp, "squid-ca", "squid bench CA")
    db = os.path.join(tmp, "squid-ssl-db")
    sh(["/usr/lib/squid/security_file_certgen", "-c", "-s", db, "-M", "64MB"])
    hosts_file = os.path.join(tmp, "squid-hosts")
    with open(hosts_file, "w") as f:
        for suffix in all_names(runs):
            f.write("127.0.0.1 " + " ".join(f"h{i}{suffix}" for i in range(hosts)) + "\n")
    port = lb.free_port()
    conf = os.path.join(tmp, "squid-bump.conf")
    with open(conf, "w") as f:
        f.write(f"""http_port 127.0.0.1:{port} ssl-bump tls-cert={cert} tls-key={key} generate-host-certificates=on dynamic_cert_mem_cache_size=64MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s {db} -M 64MB
sslcrtd_children 32 startup=5 idle=1
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile={tmp}/origin-ca.pem
hosts_file {hosts_file}
dns_nameservers 127.0.0.1
http_access allow all
cache deny all
access_log none
cache_log {tmp}/squid-bump-cache.log
pid_filename {tmp}/squid-bump.pid
coredump_dir {tmp}
max_filedescriptors 16384
shutdown_lifetime 1 seconds
""")
    os.chmod(tmp, 0o777)  # squid writes its log and pid file here as the "proxy" user
    # squid drops to the "proxy" user when started as root: it must read its key and write its database.
    if os.geteuid() == 0:
        shutil.chown(key, "proxy")
        os.chmod(key, 0o600)
        for dirpath, dirnames, filenames in os.walk(db):
            for n in dirnames + filenames:
                shutil.chown(os.path.join(dirpath, n), "proxy", "proxy")
        shutil.chown(db, "proxy", "proxy")
    else:
        os.chmod(key, 0o600)
    proc = lb.start(["squid", "-N", "-f", conf], tmp, "squid-bump")
    return Proxy("squid-bump", proc, port, cert, origin_port)


MITM_ADDON = """
# Sends every CONNECT to the bench origin (the host names do not resolve); SNI and Host stay as sent.
import os
PORT = int(os.environ["BENCH_ORIGIN_PORT"])
def http_connect(flow):
    flow.request.host = "127.0.0.1"
    flow.request.port = PORT
"""


def start_mitmproxy(tmp, origin_port):
    exe = shutil.which("mitmdump")
    if not exe:
        raise RuntimeError("mitmproxy is not installed (apt-get install -y mitmproxy)")
    confdir = os.path.join(tmp, "mitm")
    os.makedirs(confdir, exist_ok=True)
    addon = os.path.join(tmp, "mitm_addon.py")
    with open(addon, "w") as f:
        f.write(MITM_ADDON)
    port = lb.free_port()
    proc = lb.start([exe, "-q", "--listen-host", "127.0.0.1", "--listen-port", str(port), "--set", f"confdir={confdir}",
                     "--set", f"ssl_verify_upstream_trusted_ca={tmp}/origin-ca.pem", "-s", addon], tmp, "mitmproxy",
                    env={**os.environ, "BENCH_ORIGIN_PORT": str(origin_port)})
    return Proxy("mitmproxy", proc, port, os.path.join(confdir, "mitmproxy-ca-cert.pem"), origin_port)


def start_consentgate(tmp, binary, origin_port):
    data = os.path.join(tmp, "consentgate-data")
    port_line = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
    # CONNECT names port 443 (the only CONNECT port allowed by default); --connect-to sends every host
    # to the origin's real port, keeping the name for SNI, Host and certificate checks.
    cmd = [binary, "run", "--config", os.path.join(REPO, "config/default.yaml"), "--listen", "127.0.0.1:0",
           "--log", os.path.join(tmp, "decisions.jsonl"), "--data-dir", data, "--upstream-ca",
           os.path.join(tmp, "origin-ca.pem"), "--connect-to", f"::127.0.0.1:{origin_port}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "consentgate.err"), "w"),
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = port_line.search(line or "")
        if m:
            return Proxy("consentgate", proc, int(m.group(1)), os.path.join(data, "consentgate-ca.pem"), 443)
        if proc.poll() is not None:
            break
    lb.stop(proc)
    raise RuntimeError(f"consentgate did not print its listening address (see {tmp}/consentgate.err)")


def tls_load(args, target, mode, suffix, seconds, extra=()):
    cmd = [args.tls_load, "--mode", mode, "--connect", f"127.0.0.1:{target.origin_port}", "--cafile", target.cafile,
           "--host-suffix", suffix, "--path", "/small", "--seconds", str(seconds), "--cookie", COOKIE, *extra]
    if target.proxy is not None:
        cmd += ["--proxy", f"127.0.0.1:{target.proxy.port}", "--connect-port", str(target.proxy.connect_port)]
    return cmd


class Target:
    def __init__(self, name, pid, cafile, origin_port, proxy):
        self.name, self.pid, self.cafile, self.origin_port, self.proxy = name, pid, cafile, origin_port, proxy


def measure(args, target, cmd, timeout):
    cpu0 = lb.cpu_seconds(target.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    cpu = lb.cpu_seconds(target.pid) - cpu0
    try:
        r = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"tls_load failed: {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    r["cpu_s_per_10k"] = cpu / max(r["requests"], 1) * 10000
    return r


def idle_memory(args, target, suffix):
    # Warm up the allocator and the leaf cache with a few connections first, as bench/load does.
    warm = subprocess.Popen(tls_load(args, target, "idle", suffix, 60, ["--connections", "50", "--hosts", "64"]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    warm.stdout.readline()
    warm.stdin.close()
    warm.wait(timeout=30)
    time.sleep(1.0)
    before = lb.rss_kib(target.pid)
    hold = subprocess.Popen(tls_load(args, target, "idle", suffix, 300, ["--connections", str(args.idle),
                                                                         "--hosts", "64"]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = hold.stdout.readline()
        ready = json.loads(line)
        time.sleep(2.0)
        after = lb.rss_kib(target.pid)
    finally:
        hold.stdin.close()
        try:
            hold.wait(timeout=30)
        except subprocess.TimeoutExpired:
            hold.kill()
            hold.wait()
    return {"open": ready["open"], "failed": ready["failed"], "rss_before_kib": before, "rss_after_kib": after,
            "kib_per_connection": (after - before) / max(ready["open"], 1)}


def median_of(runs):
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}


def run_target(args, target):
    res = {}
    fresh, cached, keep = [], [], []
    # The keep-alive names get their leaves first (not measured): keep-alive measures requests, not minting.
    measure(args, target, tls_load(args, target, "newconn", f"-k{SUFFIX}", 120, [
        "--connections", "8", "--hosts", str(args.connections), "--requests", str(args.connections)]), timeout=180)
    for r in range(args.runs):
        suffix = f"-r{r}{SUFFIX}"
        # Keep-alive first: a proxy still working through a backlog of minting must not slow it down.
        keep.append(measure(args, target, tls_load(args, target, "keepalive", f"-k{SUFFIX}", args.duration, [
            "--connections", str(args.connections), "--hosts", str(args.connections)]), timeout=args.duration + 60))
        fresh.append(measure(args, target, tls_load(args, target, "newconn", suffix, 120, [
            "--connections", str(args.connections), "--hosts", str(args.hosts), "--requests", str(args.hosts)]),
            timeout=180))
        time.sleep(2)
        cached.append(measure(args, target, tls_load(args, target, "newconn", suffix, args.duration, [
            "--connections", str(args.connections), "--hosts", str(args.hosts)]), timeout=args.duration + 60))
        print(f"  {target.name:12} run {r}: fresh {fresh[-1]['rps']:.0f}/s  cached {cached[-1]['rps']:.0f}/s  "
              f"keep-alive {keep[-1]['rps']:.0f} req/s", flush=True)
    res["newconn_fresh"], res["newconn_cached"], res["keepalive"] = median_of(fresh), median_of(cached), median_of(keep)
    res["runs"] = {"newconn_fresh": fresh, "newconn_cached": cached, "keepalive": keep}
    if target.proxy is not None and args.idle > 0:
        res["idle"] = idle_memory(args, target, f"-k{SUFFIX}")
    return res


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model, "uptime": subprocess.run(["uptime"], capture_output=True,
                                                                           text=True).stdout.strip()}


def versions():
    v = {}
    for name, cmd in (("nginx", ["nginx", "-v"]), ("squid", ["squid", "-v"]), ("mitmproxy", ["mitmdump", "--version"])):
        if shutil.which(cmd[0]):
            out = subprocess.run(cmd, capture_output=True, text=True)
            v[name] = (out.stdout + out.stderr).strip().splitlines()[0]
    return v


def markdown(results, meta):
    lines = [f"# Intercepted HTTPS (issue 4)", "", f"- machine: {meta['machine']['nproc']} cores, "
             f"{meta['machine']['cpu']}", f"- load before: `{meta['machine']['uptime']}`",
             f"- load after: `{meta['uptime_after']}`", f"- command: `{meta['command']}`",
             f"- versions: {', '.join(f'{k}: {v}' for k, v in meta['versions'].items())}", "",
             "| target | keep-alive req/s | p99 ms | CPU s/10k | new conn/s (mint) | new conn/s (cached) | "
             "p50 ms (mint) | idle KiB/conn |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        if name.startswith("_"):
            continue
        idle = r.get("idle", {}).get("kib_per_connection")
        lines.append(f"| {name} | {r['keepalive']['rps']:.0f} | {r['keepalive']['p99_ms']:.2f} | "
                     f"{r['keepalive']['cpu_s_per_10k']:.2f} | {r['newconn_fresh']['rps']:.0f} | "
                     f"{r['newconn_cached']['rps']:.0f} | {r['newconn_fresh']['p50_ms']:.1f} | "
                     f"{'' if idle is None else f'{idle:.1f}'} |")
    if "_leaf_mint" in results:
        m = results["_leaf_mint"]
        lines += ["", f"consentgate leaf minting (bench/tls/leaf_mint.cpp, {m['hosts']} hosts x {m['rounds']}): "
                  f"median {m['mint_median_us']:.0f} us, p99 {m['mint_p99_us']:.0f} us; cached lookup "
                  f"{m['cached_median_us']:.1f} us"]
    if "_ratios" in results:
        lines += ["", "Ratios (consentgate / peer, same run):", ""]
        lines += [f"- {k}: {v:.2f}x" for k, v in results["_ratios"].items()]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tls-load", default=os.path.join(REPO, "build-rel/bench/tls_load"))
    ap.add_argument("--consentgate", default="", help="consentgate binary; empty measures the peers alone")
    ap.add_argument("--leaf-mint", default="", help="leaf_mint_bench binary (consentgate's minting time)")
    ap.add_argument("--targets", default="direct,consentgate,squid,mitmproxy")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--hosts", type=int, default=500, help="new host names per fresh run")
    ap.add_argument("--idle", type=int, default=1000, help="idle intercepted connections for the memory figure")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary directory (logs) for debugging")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    meta = {"machine": machine(), "command": " ".join(sys.argv), "versions": versions()}
    tmp = tempfile.mkdtemp(prefix="consentgate-tls-bench-")
    procs, results = [], {}
    wanted = args.targets.split(",")
    try:
        ca_cert, ca_key = make_ca(tmp, "origin-ca", "bench origin CA")
        cert, key = make_origin_cert(tmp, ca_cert, ca_key)
        origin, origin_port = start_origin(tmp, cert, key)
        procs.append(origin)
        if not lb.wait_port(origin_port):
            raise RuntimeError("origin did not start")
        targets = []
        if "direct" in wanted:
            targets.append(Target("direct", origin.pid, ca_cert, origin_port, None))
        starters = {"consentgate": lambda: start_consentgate(tmp, args.consentgate, origin_port),
                    "squid": lambda: start_squid(tmp, origin_port, args.hosts, args.runs),
                    "mitmproxy": lambda: start_mitmproxy(tmp, origin_port)}
        for name in ("consentgate", "squid", "mitmproxy"):
            if name not in wanted or (name == "consentgate" and not args.consentgate):
                continue
            try:
                p = starters[name]()
            except (RuntimeError, subprocess.CalledProcessError) as e:
                print(f"# {name} skipped: {e}", file=sys.stderr)
                continue
            procs.append(p.proc)
            if not lb.wait_port(p.port, 30) or p.proc.poll() is not None:
                print(f"# {name} did not start; skipped (see {tmp})", file=sys.stderr)
                continue
            for _ in range(100):  # mitmproxy writes its CA after it listens
                if os.path.exists(p.cafile):
                    break
                time.sleep(0.1)
            targets.append(Target(p.name, p.proc.pid, p.cafile, origin_port, p))
        for t in targets:
            print(f"# {t.name}", flush=True)
            try:
                results[t.name] = run_target(args, t)
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
                print(f"# {t.name} failed: {e}", file=sys.stderr)
                continue
            r = results[t.name]
            print(f"{t.name:12} keep-alive {r['keepalive']['rps']:8.0f} req/s p99 {r['keepalive']['p99_ms']:.2f} ms "
                  f"cpu {r['keepalive']['cpu_s_per_10k']:.2f} s/10k | new conn {r['newconn_fresh']['rps']:6.0f}/s mint, "
                  f"{r['newconn_cached']['rps']:6.0f}/s cached | failed {r['keepalive']['failed']:.0f}/"
                  f"{r['newconn_fresh']['failed']:.0f}/{r['newconn_cached']['failed']:.0f}"
                  + (f" | idle {r['idle']['kib_per_connection']:.1f} KiB/conn ({r['idle']['open']} open)"
                     if "idle" in r else ""), flush=True)
    finally:
        for p in procs:
            lb.stop(p)
    if args.leaf_mint and os.path.exists(args.leaf_mint):
        out = subprocess.run([args.leaf_mint, "--hosts", str(args.hosts)], capture_output=True, text=True, timeout=300)
        results["_leaf_mint"] = json.loads(out.stdout.strip().splitlines()[-1])
        print("leaf minting:", out.stdout.strip(), flush=True)
    cg = results.get("consentgate")
    ratios = {}
    if cg:
        for peer in ("squid-bump", "mitmproxy", "direct"):
            if peer in results:
                p = results[peer]
                ratios[f"keep-alive req/s vs {peer}"] = cg["keepalive"]["rps"] / p["keepalive"]["rps"]
                ratios[f"new conn/s (mint) vs {peer}"] = cg["newconn_fresh"]["rps"] / p["newconn_fresh"]["rps"]
                ratios[f"new conn/s (cached) vs {peer}"] = cg["newconn_cached"]["rps"] / p["newconn_cached"]["rps"]
        results["_ratios"] = ratios
        print("\n# ratios\n" + "\n".join(f"{k}: {v:.2f}x" for k, v in ratios.items()))
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
