// Starts the real `telewarden` binary on an ephemeral loopback port with a fresh data
// directory, and stops it by its PID afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const BIN = process.env.TW_BIN;
if (!BIN) {
  throw new Error('TW_BIN must name the telewarden binary (scripts/test sets it)');
}

export async function startServer(extraArgs = [], extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tw-e2e-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TW_')));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--metrics-listen', 'off', ...extraArgs], {
    cwd: dir,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const banner = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 30 s; stderr:\n${stderr}`)), 30_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const origin = stdout.match(/Telewarden is listening on (\S+?)\/?\n/);
      const link = stdout.match(/^\s+(\S+\/setup\/\S+)$/m);
      if (origin && /^Ready\./m.test(stdout)) {
        clearTimeout(timer);
        resolve({ origin: origin[1], setupLink: link ? link[1] : null });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`telewarden exited with ${code}; stderr:\n${stderr}`));
    });
  });
  const { origin, setupLink } = await banner;
  return {
    origin,
    setupLink,
    dir,
    logs: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}
