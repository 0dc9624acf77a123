// Starts Debian's coturn on loopback with its own config (shared-secret REST auth, the
// scheme Telewarden issues credentials for), and stops it by its PID.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const TURNSERVER = process.env.TW_TURNSERVER || 'turnserver';

/** A UDP port nobody is using just now. */
async function freeUdpPort() {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

/** Whether a STUN Binding request to `port` is answered within `ms`. */
function stunAnswers(port, ms) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt16BE(0, 2); // no attributes
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    const done = (ok) => { clearTimeout(timer); socket.close(); resolve(ok); };
    const timer = setTimeout(() => done(false), ms);
    socket.on('message', (msg) => done(msg.length >= 20 && msg.readUInt16BE(0) === 0x0101));
    socket.on('error', () => done(false));
    socket.send(request, port, '127.0.0.1');
  });
}

/** Starts coturn; `port` reuses a port (to bring a stopped relay back). */
export async function startCoturn({ port, secret } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tw-coturn-'));
  const listening = port || await freeUdpPort();
  const sharedSecret = secret || randomBytes(16).toString('hex');
  const config = join(dir, 'turnserver.conf');
  writeFileSync(config, [
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${listening}`,
    'min-port=50000',
    'max-port=50999',
    'use-auth-secret',
    `static-auth-secret=${sharedSecret}`,
    'realm=telewarden.test',
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-tcp',
    'no-tcp-relay',
    'no-cli',
    'no-multicast-peers',
    'allow-loopback-peers',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
    '',
  ].join('\n'));
  const child = spawn(TURNSERVER, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`coturn exited with ${child.exitCode}:\n${log}`);
    if (await stunAnswers(listening, 300)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`coturn did not answer STUN within 15 s:\n${log}`);
    }
  }
  return {
    port: listening,
    secret: sharedSecret,
    url: `turn:127.0.0.1:${listening}?transport=udp`,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await once(child, 'exit');
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
