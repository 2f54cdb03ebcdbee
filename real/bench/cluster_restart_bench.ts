// The restart part of `ringkv bench cluster --restart`: a node of a running
// local cluster holding `bytes` of data is killed (SIGKILL, so recovery
// replays whatever its WAL holds) and started again with the same config;
// the figure is how long until it serves: /admin/status answers, then a get
// through it of a key written before the kill.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '../client.ts';
import type { LocalCluster } from '../local_cluster.ts';

export interface RestartFigures {
  /** User bytes written before the kill (each node holds all of them: N=3 on 3 nodes). */
  userBytes: number;
  /** Bytes in the killed node's data directory at restart. */
  dataDirBytes: number;
  fillSeconds: number;
  /** From spawning the process to the first 200 from /admin/status. */
  statusMs: number;
  /** From spawning the process to the first successful get through it. */
  getMs: number;
  /** What the engine reported about its recovery ("storage opened" log line), if found. */
  recovery: unknown;
  targetMs: number;
  met: boolean;
}

const VALUE_BYTES = 256 * 1024;
const TARGET_MS = 3000;

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

export async function measureRestart(cluster: LocalCluster, binPath: string, bytes: number, log: (line: string) => void): Promise<RestartFigures> {
  const nodes = cluster.nodes.map((n) => `http://${n.http}`);
  const client = new Client({ nodes, timeoutMs: 60_000, retries: 5 });
  const count = Math.ceil(bytes / VALUE_BYTES);
  const value = new Uint8Array(VALUE_BYTES);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7919) & 0xff;
  const t0 = performance.now();
  let next = 0;
  let lastReport = t0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        value[0] = i & 0xff;
        await client.put('default', `restart-${String(i).padStart(7, '0')}`, value, { consistency: 'ALL' });
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          log(`  restart fill: ${i + 1} of ${count} values of ${VALUE_BYTES / 1024} KiB`);
        }
      }
    }),
  );
  const fillSeconds = (performance.now() - t0) / 1000;
  client.close();

  const victim = cluster.nodes[0]!;
  process.kill(victim.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const dataDir = path.join(path.dirname(victim.configFile), victim.id);
  const dataDirBytes = dirBytes(dataDir);
  const logBefore = fs.existsSync(victim.logFile) ? fs.statSync(victim.logFile).size : 0;

  const started = performance.now();
  const child = spawn(process.execPath, [binPath, 'start', '--config', victim.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  try {
    const base = `http://${victim.http}`;
    const deadline = started + 120_000;
    let statusMs = -1;
    let getMs = -1;
    const probeKey = `restart-${String(count - 1).padStart(7, '0')}`;
    while (performance.now() < deadline && getMs < 0) {
      if (child.exitCode !== null) throw new Error(`restarted ${victim.id} exited with ${child.exitCode}: ${stderr.slice(-500)}`);
      try {
        if (statusMs < 0) {
          const res = await fetch(`${base}/admin/status`);
          await res.arrayBuffer();
          if (res.status === 200) statusMs = performance.now() - started;
        }
        if (statusMs >= 0) {
          const res = await fetch(`${base}/kv/default/${probeKey}?consistency=ONE`);
          const body = new Uint8Array(await res.arrayBuffer());
          if (res.status === 200 && body.length === VALUE_BYTES) getMs = performance.now() - started;
        }
      } catch {
        // not listening yet
      }
      if (getMs < 0) await new Promise((r) => setTimeout(r, 10));
    }
    if (getMs < 0) throw new Error(`restarted ${victim.id} did not serve a get within 120 s`);
    return { userBytes: count * VALUE_BYTES, dataDirBytes, fillSeconds, statusMs, getMs, recovery: recoveryLine(victim.logFile, logBefore), targetMs: TARGET_MS, met: getMs <= TARGET_MS };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(force);
  }
}

/** The recovery figures of the first "storage opened" line written after `offset`. */
function recoveryLine(logFile: string, offset: number): unknown {
  try {
    const text = fs.readFileSync(logFile, 'utf8').slice(offset);
    for (const line of text.split('\n')) {
      if (!line.includes('"storage opened"')) continue;
      return (JSON.parse(line) as { recovery?: unknown }).recovery ?? null;
    }
  } catch {
    // the log is optional
  }
  return null;
}
