// Starts the real `telewarden` binary on an ephemeral loopback port with a fresh data
// directory, and stops it by its PID afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const BIN = process.env.TW_BIN;
if (!BIN) {
  throw new Error('TW_BIN must name the telewarden binary (scripts/test sets it)');
}

/**
 * With `E2E_DATABASE=postgres`, each server gets a fresh PostgreSQL database on the
 * server named by `TW_TEST_POSTGRES_URL`; otherwise the default SQLite file.
 */
function databaseEnv() {
  if (process.env.E2E_DATABASE !== 'postgres') return {};
  const base = process.env.TW_TEST_POSTGRES_URL;
  if (!base) throw new Error('E2E_DATABASE=postgres needs TW_TEST_POSTGRES_URL');
  const url = new URL(base);
  const name = `tw_e2e_${randomBytes(6).toString('hex')}`;
  execFileSync('createdb', ['-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres', name]);
  url.pathname = `/${name}`;
  return { TW_DATABASE_URL: url.toString() };
}

export async function startServer(extraArgs = [], extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tw-e2e-'));
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TW_'))),
    ...databaseEnv(),
  };
  // Clinicians in most browser tests open records at once; the training test turns the
  // gate (on by default) back on.
  const childEnv = { ...env, TW_TRAINING__REQUIRED_BEFORE_RECORDS: 'false', ...extraEnv };
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--metrics-listen', 'off', ...extraArgs], {
    cwd: dir,
    env: childEnv,
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
    database: env.TW_DATABASE_URL ? 'postgres' : 'sqlite',
    logs: () => stderr,
    /**
     * The audit ledger so far, as `telewarden audit export` (the operator's own tool)
     * prints it: `{ action, outcome, target, details }` per entry, oldest first.
     */
    auditEntries() {
      const out = execFileSync(BIN, ['audit', 'export'], { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      return out.toString().split('\n').filter(Boolean).map((line) => {
        const event = JSON.parse(line);
        const detail = (type) => event.entity[0].detail.find((d) => d.type === type)?.valueString;
        return {
          action: event.subtype[0].code,
          outcome: event.outcomeDesc,
          target: event.entity[0].what.identifier.value,
          details: JSON.parse(detail('details') || 'null'),
        };
      });
    },
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
