// The fake web: every site of the end-to-end suite, served on loopback by one Node server (stdlib only).
//
// One HTTP port and one HTTPS port serve all the sites, chosen by the Host header (and by SNI for TLS:
// one leaf certificate names every site). consentgate reaches them through its --connect-to pins, so
// the host names never touch the system's resolver. Every request received is recorded as ground
// truth (scheme, host, path, the cookies sent); the suite reads it from the control port:
//   GET  /__ground_truth   -> JSON array of requests, oldest first
//   POST /__reset          -> forget them
//   GET  /proxy.pac?proxy=127.0.0.1:PORT -> a PAC script sending only the fake sites to that proxy
//
// Run alone for manual poking: node fake_web.mjs  (prints the ports, serves until killed)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { URL } from 'node:url';

// Purposes as consentgate's default policy names them; the banner writes these keys.
export const PURPOSES = [
  'audience-measurement',
  'advertising-personalised',
  'advertising',
  'social-media',
  'session-replay',
  'content-personalisation',
  'email-tracking',
];

// Tracker hosts recognised by the default policy pack (config/policies/*.yaml). `cookie` is the
// third-party cookie its responses set on its own host; `firstPartyCookie` is what its script writes on
// the publisher's domain (as gtag.js or the LinkedIn Insight Tag do).
// Not www.google-analytics.com, connect.facebook.net nor www.facebook.com: they are on Chromium's
// built-in HSTS preload list, so the browser rewrites http:// to https:// before any proxy sees it
// and the plain-HTTP variant could never reach them. The hosts below are not preloaded.
export const TRACKERS = {
  analytics: {
    host: 'www.googletagmanager.com',
    script: '/gtm.js?id=GTM-E2E1234',
    pixel: '/td?id=GTM-E2E1234&v=3&t=t&pid=555',
    cookie: '_gid',
    firstPartyCookie: '_ga',
  },
  ads: {
    host: 'ad.doubleclick.net',
    script: '/ddm/adj/e2e.js',
    pixel: '/ddm/activity/src=1234;type=e2e;cat=view',
    cookie: 'IDE',
    firstPartyCookie: '_gcl_au',
  },
  social: {
    host: 'snap.licdn.com',
    script: '/li.lms-analytics/insight.min.js',
    cookie: 'li_sugr',
    firstPartyCookie: 'li_fat_id',
  },
  socialPixel: {
    host: 'px.ads.linkedin.com',
    pixel: '/collect/?pid=1234567&fmt=gif',
    cookie: 'li_sugr',
  },
  replay: {
    host: 'static.hotjar.com',
    script: '/c/hotjar-1234567.js?sv=6',
    cookie: '_hjSessionUser_1234567',
    firstPartyCookie: '_hjSession_1234567',
  },
  emailPixel: {
    host: 'x4k2p.mjt.lu',
    pixel: '/oo/BAAAAE2eTestOpenPixelToken0123456789abcdef/u0v9/0/o.gif',
    cookie: 'mj_open',
  },
};

// One publisher site per scenario: consentgate's consent ledger is keyed by (client, site), so one
// proxy process serves every scenario of a mode without one scenario's consent leaking into another.
export const PUBLISHERS = {
  'no consent': 'no-consent-news.example',
  'all refused': 'all-refused-news.example',
  'analytics only': 'analytics-only-news.example',
  'all accepted': 'all-accepted-news.example',
  'consent withdrawn': 'withdrawn-news.example',
};
export const PUBLISHER = 'publisher.example'; // for manual browsing and the TLS probe
// The site served through consentgate in gateway mode (issue 6): the browser reaches the gateway, which
// forwards to this fake web as the site's origin.
export const GATEWAY_SITE = 'gateway-news.example';
const isPublisher = (host) => host === PUBLISHER || host === GATEWAY_SITE || Object.values(PUBLISHERS).includes(host);
export const CDN = 'cdn.publisher-assets.example'; // not a tracker: must always load
export const WEBMAIL = 'webmail.example';

export function siteHosts() {
  const hosts = new Set([PUBLISHER, ...Object.values(PUBLISHERS), GATEWAY_SITE, CDN, WEBMAIL]);
  for (const t of Object.values(TRACKERS)) hosts.add(t.host);
  return [...hosts];
}

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function parseCookies(header) {
  const out = [];
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name) out.push({ name, value: eq < 0 ? '' : part.slice(eq + 1).trim() });
  }
  return out;
}

// Third-party cookies need SameSite=None; Secure, or Chromium neither stores nor sends them cross-site;
// the suite lets Chromium treat the fake http:// origins as secure so this also works over plain HTTP.
function trackerCookie(name, host) {
  return `${name}=e2e-${host.split('.')[0]}-${Date.now()}; Path=/; Max-Age=31536000; SameSite=None; Secure`;
}

function publisherPage(scheme) {
  const t = TRACKERS;
  const u = (tr, p) => `${scheme}://${tr.host}${p}`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Publisher</title>
<script src="${scheme}://${CDN}/lib/widgets.js"></script>
<script src="${u(t.analytics, t.analytics.script)}"></script>
<script src="${u(t.ads, t.ads.script)}"></script>
<script src="${u(t.social, t.social.script)}"></script>
<script src="${u(t.replay, t.replay.script)}"></script>
</head><body>
<h1>Le Quotidien fictif</h1>
<div id="banner">
  <p>We and our partners use cookies for audience measurement, advertising, social media and session replay.</p>
  <button id="accept-all">Accept all</button>
  <button id="refuse-all">Refuse all</button>
  <button id="analytics-only">Audience measurement only</button>
  <button id="withdraw">Withdraw my consent</button>
</div>
<img id="analytics-pixel" src="${u(t.analytics, t.analytics.pixel)}" width="1" height="1" alt="">
<img id="ads-pixel" src="${u(t.ads, t.ads.pixel)}" width="1" height="1" alt="">
<img id="social-pixel" src="${u(t.socialPixel, t.socialPixel.pixel)}" width="1" height="1" alt="">
<img id="cdn-logo" src="${scheme}://${CDN}/img/logo.gif" width="1" height="1" alt="">
<script src="/banner.js"></script>
</body></html>`;
}

// The CNIL-style banner, served from the publisher's own origin (not inline: a gateway's CSP may allow
// only 'self' for scripts): eu-consent holds JSON of purpose -> boolean plus the time of the choice.
function bannerScript() {
  return `const purposes = ${JSON.stringify(PURPOSES)};
function choose(granted) {
  const choice = {};
  for (const p of purposes) choice[p] = granted.includes(p);
  choice.ts = Math.floor(Date.now() / 1000);
  document.cookie = 'eu-consent=' + encodeURIComponent(JSON.stringify(choice)) +
    '; Path=/; Max-Age=15552000; SameSite=Lax';
  document.body.dataset.choice = granted.join(',') || 'none';
}
document.getElementById('accept-all').onclick = () => choose(purposes);
document.getElementById('refuse-all').onclick = () => choose([]);
document.getElementById('analytics-only').onclick = () => choose(['audience-measurement']);
document.getElementById('withdraw').onclick = () => choose([]);
document.body.dataset.banner = 'ready';
`;
}

function webmailPage(scheme) {
  const p = TRACKERS.emailPixel;
  const email = `<p>Hello, here is our newsletter.</p><img src="${scheme}://${p.host}${p.pixel}" width="1" height="1" alt="">`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Webmail</title></head><body>
<h1>Inbox</h1><div class="message"><h2>Newsletter of November</h2>
<div id="message-body">${email}</div></div>
<img id="webmail-logo" src="${scheme}://${CDN}/img/logo.gif" width="1" height="1" alt="">
</body></html>`;
}

function trackerScript(tracker) {
  const fp = tracker.firstPartyCookie
    ? `document.cookie = '${tracker.firstPartyCookie}=fp.' + Date.now() + '; Path=/; Max-Age=31536000; SameSite=Lax';`
    : '';
  return `/* fake ${tracker.host} tag */\n${fp}\nwindow.__tags = (window.__tags || []).concat(['${tracker.host}']);\n`;
}

function handle(scheme, req, res, record) {
  const host = (req.headers.host || '').replace(/:\d+$/, '').toLowerCase();
  const url = new URL(req.url, `${scheme}://${host || 'unknown'}`);
  record({
    scheme,
    host,
    method: req.method,
    path: url.pathname + url.search,
    cookies: parseCookies(req.headers.cookie),
    referer: req.headers.referer || '',
    secFetchSite: req.headers['sec-fetch-site'] || '',
    time: Date.now(),
  });
  const send = (status, type, body, cookies = []) => {
    const headers = { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) };
    if (cookies.length) headers['Set-Cookie'] = cookies;
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (isPublisher(host) && url.pathname === '/banner.js') return send(200, 'text/javascript', bannerScript());
  if (isPublisher(host) && url.pathname === '/') {
    return send(200, 'text/html; charset=utf-8', publisherPage(scheme), [
      'PHPSESSID=sess-e2e; Path=/; HttpOnly; SameSite=Lax',
    ]);
  }
  if (host === WEBMAIL && url.pathname === '/inbox') {
    return send(200, 'text/html; charset=utf-8', webmailPage(scheme), ['sessionid=mail-e2e; Path=/; HttpOnly']);
  }
  if (host === CDN) {
    if (url.pathname.endsWith('.js')) return send(200, 'text/javascript', 'window.__cdn = true;\n');
    return send(200, 'image/gif', GIF);
  }
  for (const tracker of Object.values(TRACKERS)) {
    if (tracker.host !== host) continue;
    const cookies = tracker.cookie ? [trackerCookie(tracker.cookie, host)] : [];
    if (tracker.script && url.pathname === new URL(tracker.script, 'http://x').pathname) {
      return send(200, 'text/javascript', trackerScript(tracker), cookies);
    }
    return send(200, 'image/gif', GIF, cookies);
  }
  return send(404, 'text/plain', 'not found\n');
}

function pacScript(proxy) {
  const hosts = JSON.stringify(siteHosts());
  // Only the fake sites go to consentgate, and never DIRECT: their names must not reach a resolver.
  return `function FindProxyForURL(url, host) {
  var fake = ${hosts};
  for (var i = 0; i < fake.length; i++) if (host === fake[i]) return "PROXY ${proxy}";
  return "DIRECT";
}
`;
}

// A throwaway CA and one leaf naming every site, made with the openssl command line for this run.
export function makeTestPki(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n) => path.join(dir, n);
  const run = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=e2e fake-web test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const san = siteHosts().map((h) => `DNS:${h}`).join(',');
  fs.writeFileSync(f('leaf.ext'),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=fake web',
    '-keyout', f('leaf.key'), '-out', f('leaf.csr')]);
  run(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('leaf.ext'), '-out', f('leaf.pem')]);
  return { caFile: f('ca.pem'), certFile: f('leaf.pem'), keyFile: f('leaf.key') };
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

export async function startFakeWeb({ pkiDir } = {}) {
  const requests = [];
  const record = (r) => requests.push(r);
  const sockets = new Set();
  const track = (server) => server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const httpServer = http.createServer((req, res) => handle('http', req, res, record));
  track(httpServer);
  let httpsServer = null;
  let pki = null;
  if (pkiDir) {
    pki = makeTestPki(pkiDir);
    httpsServer = https.createServer(
      { cert: fs.readFileSync(pki.certFile), key: fs.readFileSync(pki.keyFile), ALPNProtocols: ['http/1.1'] },
      (req, res) => handle('https', req, res, record));
    httpsServer.on('secureConnection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    track(httpsServer);
  }
  const control = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://control');
    if (url.pathname === '/__ground_truth') {
      const body = JSON.stringify(requests);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(body);
    }
    if (url.pathname === '/__reset' && req.method === 'POST') {
      requests.length = 0;
      res.writeHead(204);
      return res.end();
    }
    if (url.pathname === '/proxy.pac') {
      res.writeHead(200, { 'Content-Type': 'application/x-ns-proxy-autoconfig', 'Cache-Control': 'no-store' });
      return res.end(pacScript(url.searchParams.get('proxy') || '127.0.0.1:9'));
    }
    res.writeHead(404);
    res.end();
  });
  track(control);

  const httpPort = await listen(httpServer);
  const httpsPort = httpsServer ? await listen(httpsServer) : 0;
  const controlPort = await listen(control);
  return {
    httpPort,
    httpsPort,
    controlPort,
    pki,
    hosts: siteHosts(),
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([httpServer, httpsServer, control].filter(Boolean).map((s) => new Promise((r) => s.close(r))));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-web-'));
  const web = await startFakeWeb({ pkiDir: dir });
  console.log(JSON.stringify({ httpPort: web.httpPort, httpsPort: web.httpsPort, controlPort: web.controlPort,
    ca: web.pki.caFile }));
  const stop = async () => {
    await web.close();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
