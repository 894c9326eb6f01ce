// Real network parts for the proxy tests: Debian's tinyproxy as the forward proxy (its own log is
// the evidence of what went through it) and a throwaway certificate authority made with openssl.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  for (const p of [`/usr/bin/${cmd}`, `/usr/sbin/${cmd}`]) if (existsSync(p)) return p;
  return undefined;
}

export function tinyproxyPath(): string {
  const p = which('tinyproxy');
  if (!p) throw new Error('tinyproxy is not installed: run `bash test/runners/install-proxy.sh` (npm test does it for you)');
  return p;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Tinyproxy {
  port: number;
  url: string;
  /** The proxy's own log, as written so far. */
  log(): string;
  /** Lines of the log that record a client request (`GET http://…` or `CONNECT host:port`). */
  requests(): string[];
  stop(): Promise<void>;
}

export async function startTinyproxy(opts: { auth?: { user: string; pass: string } } = {}): Promise<Tinyproxy> {
  const bin = tinyproxyPath();
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-tinyproxy-'));
  const port = await freePort();
  const logFile = path.join(dir, 'tinyproxy.log');
  writeFileSync(logFile, '');
  const conf = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    `LogFile "${logFile}"`,
    // Connect level writes one line per request and per CONNECT, which the tests read.
    'LogLevel Connect',
    'MaxClients 200',
    'Allow 127.0.0.1',
    ...(opts.auth ? [`BasicAuth ${opts.auth.user} ${opts.auth.pass}`] : []),
    // No ConnectPort line: CONNECT is allowed to any port (the test servers use random ones).
  ].join('\n');
  writeFileSync(path.join(dir, 'tinyproxy.conf'), conf + '\n');
  const child: ChildProcess = spawn(bin, ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitForPort(port);
  const log = () => readFileSync(logFile, 'utf8');
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log,
    requests: () =>
      log()
        .split('\n')
        .filter((l) => /Request \(file descriptor \d+\): /.test(l))
        .map((l) => l.replace(/^.*Request \(file descriptor \d+\): /, '')),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }),
  };
}

export interface TestCa {
  caPem: string;
  keyPem: string;
  certPem: string;
}

/** A certificate authority made for this test run, and a server certificate for 127.0.0.1/localhost signed by it. */
export function makeTestCa(): TestCa {
  const openssl = which('openssl');
  if (!openssl) throw new Error('openssl is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-ca-'));
  const f = (n: string) => path.join(dir, n);
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=Scholar Test CA');
  run('req', ...ec, '-keyout', f('srv.key'), '-out', f('srv.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  run('x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('srv.crt'), '-days', '2', '-extfile', f('ext.cnf'));
  return { caPem: readFileSync(f('ca.crt'), 'utf8'), keyPem: readFileSync(f('srv.key'), 'utf8'), certPem: readFileSync(f('srv.crt'), 'utf8') };
}
