// Raw-socket checks of what consentgate relays between an origin and a client beyond heads and bodies
// (issue 3: "trailers and 103 to clients"): response trailers, and 103 Early Hints.
//
//   node protocol_check.mjs --consentgate PATH [--no-early-hints] [--verbose]
//
// A raw origin on loopback answers every request with a 103 Early Hints (two Link preloads, one to a
// tracker host, plus a Set-Cookie that must never reach a client through a 1xx) and then a chunked 200
// with a Server-Timing trailer. consentgate runs with --connect-to pins; clients are raw sockets, so what
// is asserted is the bytes on the wire.
//
// Early Hints: the 103 must arrive before the 200 to an HTTP/1.1 client, keep its Link fields, carry no
// Set-Cookie, and never reach an HTTP/1.0 client (RFC 9110 section 15.2). --no-early-hints (for builds older
// than the relay) reports their absence as PENDING instead of failing; --expect-early-hints, the former
// opt-in, is still accepted and is now the default.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const args = { consentgate: '', expectEarlyHints: true, verbose: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--consentgate') args.consentgate = process.argv[++i];
  else if (a === '--expect-early-hints') args.expectEarlyHints = true;
  else if (a === '--no-early-hints') args.expectEarlyHints = false;
  else if (a === '--verbose') args.verbose = true;
  else throw new Error(`unknown argument ${a}`);
}
if (!args.consentgate) throw new Error('--consentgate PATH is required');

const SITE = 'hints-news.example';
const TRACKER_PRELOAD = 'http://www.googletagmanager.com/gtm.js?id=GTM-E2E1234';
const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref());

function startOrigin() {
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      // One answer per request head; the checks send one request per connection.
      if (!buffered.includes('\r\n\r\n')) return;
      buffered = '';
      socket.write(
        'HTTP/1.1 103 Early Hints\r\n' +
          'Link: </static/site.css>; rel=preload; as=style\r\n' +
          `Link: <${TRACKER_PRELOAD}>; rel=preload; as=script\r\n` +
          'Set-Cookie: hint=1\r\n\r\n');
      // The final response a moment later, as an origin that flushes hints before thinking.
      setTimeout(() => {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: Server-Timing\r\n\r\n' +
            '5\r\nhello\r\n0\r\nServer-Timing: db;dur=53\r\n\r\n');
      }, 50);
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startProxy(originPort, dir) {
  const child = spawn(args.consentgate, ['run', '--config', path.join(repo, 'config/default.yaml'), '--listen', '127.0.0.1:0',
    '--log', path.join(dir, 'decisions.jsonl'), '--connect-to', `${SITE}:80:127.0.0.1:${originPort}`],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_DATA_HOME: path.join(dir, 'xdg') } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const listening = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+):(\d+)/);
      if (m) resolve({ host: m[1], port: Number(m[2]) });
    });
    child.on('exit', (code) => reject(new Error(`consentgate exited with ${code} before listening: ${stderr.trim()}`)));
  });
  return { child, listening: Promise.race([listening, deadline(60_000, 'consentgate run')]) };
}

// Sends one raw request and reads until the connection closes or the final chunked body ended.
function exchange(proxy, request) {
  return Promise.race([deadline(15_000, 'raw exchange'), new Promise((resolve, reject) => {
    const s = net.connect(proxy.port, proxy.host, () => s.write(request));
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      const final = got.search(/HTTP\/1\.[01] 200/);
      if (final >= 0 && /\r\n0\r\n(?:[^\r\n]+\r\n)*\r\n$/.test(got.slice(final))) s.end();
      if (final >= 0 && /Content-Length: \d+\r\n/i.test(got) && got.endsWith('hello')) s.end();
    });
    s.on('end', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  })]);
}

const results = { failed: 0 };
const check = (cond, what) => {
  console.log(`${cond ? 'PASS' : 'FAIL'}  ${what}`);
  if (!cond) results.failed++;
};
const pending = (what) => console.log(`PENDING  ${what}`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consentgate-protocol-'));
const origin = await startOrigin();
const { child, listening } = startProxy(origin.address().port, dir);
try {
  const proxy = await listening;
  const get = (version, extra = '') => `GET http://${SITE}/ HTTP/${version}\r\nHost: ${SITE}\r\n${extra}\r\n`;

  const v11 = await exchange(proxy, get('1.1', 'TE: trailers\r\nConnection: close\r\n'));
  if (args.verbose) console.log(JSON.stringify(v11));
  const finalAt = v11.search(/HTTP\/1\.1 200/);
  check(finalAt >= 0 && v11.includes('\r\n\r\n5\r\nhello\r\n0\r\n'), 'HTTP/1.1 client: the final 200 and its chunked body arrive');
  check(/\r\n0\r\nServer-Timing: db;dur=53\r\n\r\n$/.test(v11), 'HTTP/1.1 client: the Server-Timing trailer is relayed after the last chunk');
  const hints = finalAt > 0 ? v11.slice(0, finalAt) : '';
  if (!hints.startsWith('HTTP/1.1 103')) {
    (args.expectEarlyHints ? (w) => check(false, w) : pending)('HTTP/1.1 client: the 103 Early Hints reach the client before the 200');
  } else {
    check(hints.includes('Link: </static/site.css>; rel=preload; as=style\r\n'), '103: the first-party preload Link is kept');
    check(!/^Set-Cookie:/im.test(hints), '103: no Set-Cookie in an informational response');
    check(!/^(Connection|Keep-Alive|Transfer-Encoding):/im.test(hints), '103: no hop-by-hop or framing fields');
  }

  const v10 = await exchange(proxy, get('1.0'));
  if (args.verbose) console.log(JSON.stringify(v10));
  check(v10.startsWith('HTTP/1.1 200') || v10.startsWith('HTTP/1.0 200'), 'HTTP/1.0 client: no 1xx at all, the 200 comes first (RFC 9110 section 15.2)');
  check(!/Transfer-Encoding: chunked/i.test(v10) && !v10.includes('Server-Timing: db'), 'HTTP/1.0 client: no chunked framing, so no trailer');
  check(v10.endsWith('hello'), 'HTTP/1.0 client: the body arrives whole');
} catch (e) {
  check(false, `error: ${e.message}`);
} finally {
  child.kill('SIGTERM');
  await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 10_000).unref())]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  origin.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`protocol: ${results.failed === 0 ? 'ok' : `${results.failed} failed`}`);
process.exit(results.failed === 0 ? 0 : 1);
