// The restart part of `ringkv bench cluster --restart`: a node of a running
// local cluster is killed (SIGKILL), its data directory filled to `bytes`
// through its storage engine, and the node started again with the same
// config; the figure is how long until it serves: /admin/status answers,
// then a get through it of a key written through the API before the kill.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { replicaKey } from '../../core/replication/storage_keys.ts';
import { Engine } from '../../core/storage/engine.ts';
import type { Hlc } from '../../core/versioning/hlc.ts';
import { encodeVersionedValue, valueWrite } from '../../core/versioning/versioned_value.ts';
import { Client } from '../client.ts';
import type { LocalCluster } from '../local_cluster.ts';
import { realStorageEnv } from '../storage_env.ts';
import { isRemovedFileName } from '../fs_disk.ts';
import { NODE_PROCESS_V8_FLAGS } from '../node_v8_flags.ts';

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
  /**
   * CPU time (user + system) the restarted process had used by then: what
   * the restart costs when the machine's other tenants leave it the cores
   * (null without /proc).
   */
  cpuMsAtGet: number | null;
  /** What the node reported about its recovery ("storage opened" log line: open time, process age, engine recovery figures), if found. */
  recovery: unknown;
  /** The restarted node's log messages until the get, with ms since the spawn. */
  timeline: { ms: number; msg: string }[];
  targetMs: number;
  met: boolean;
}

const FILL_VALUE_BYTES = 1024;
const TARGET_MS = 3000;

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (isRemovedFileName(e.name)) continue;
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : (fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0);
  }
  return total;
}

export async function measureRestart(cluster: LocalCluster, binPath: string, bytes: number, log: (line: string) => void): Promise<RestartFigures> {
  // A few keys through the API, so the probe reads a value the cluster wrote.
  const client = new Client({ nodes: cluster.nodes.map((n) => `http://${n.http}`), timeoutMs: 30_000 });
  const probeKey = 'restart-probe';
  const probe = new Uint8Array(randomBytes(1024));
  await client.put('default', probeKey, probe, { consistency: 'ALL' });
  client.close();

  // The bulk straight into the stopped node's engine (through the API it
  // would take the better part of an hour here): replica records of the
  // default keyspace, incompressible values, the node's own engine options
  // with unsynced writes, then a clean close.
  const victim = cluster.nodes[0]!;
  process.kill(victim.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const dataDir = path.join(path.dirname(victim.configFile), victim.id);
  const t0 = performance.now();
  const userBytes = await fillEngine(dataDir, victim.id, bytes, log);
  const fillSeconds = (performance.now() - t0) / 1000;
  // The node recovers the tables and whatever log the fill's engine left.
  const dataDirBytes = dirBytes(dataDir);
  const logBefore = fs.existsSync(victim.logFile) ? fs.statSync(victim.logFile).size : 0;

  const started = performance.now();
  const startedWall = Date.now();
  const child = spawn(process.execPath, [...NODE_PROCESS_V8_FLAGS, binPath, 'start', '--config', victim.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  try {
    const base = `http://${victim.http}`;
    const deadline = started + 120_000;
    let statusMs = -1;
    let getMs = -1;
    let cpuMsAtGet: number | null = null;
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
          if (res.status === 200 && Buffer.from(body).equals(Buffer.from(probe))) {
            getMs = performance.now() - started;
            cpuMsAtGet = processCpuMs(child.pid!);
          }
        }
      } catch {
        // not listening yet
      }
      if (getMs < 0) await new Promise((r) => setTimeout(r, 10));
    }
    if (getMs < 0) throw new Error(`restarted ${victim.id} did not serve a get within 120 s`);
    return { userBytes, dataDirBytes, fillSeconds, statusMs, getMs, cpuMsAtGet, recovery: recoveryLine(victim.logFile, logBefore), timeline: timeline(victim.logFile, logBefore, startedWall, getMs), targetMs: TARGET_MS, met: getMs <= TARGET_MS };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(force);
  }
}

/** Writes `bytes` of random values as replica records of keyspace 'default' through the engine in `dataDir`. */
export function fillEngine(dataDir: string, nodeId: string, bytes: number, log: (line: string) => void): Promise<number> {
  const env = realStorageEnv(dataDir);
  return new Promise((resolve, reject) => {
    Engine.open(env, { syncWrites: false, maxValueBytes: 2 * FILL_VALUE_BYTES }, (err, engine) => {
      if (err !== null) return reject(err);
      const e = engine!;
      const count = Math.ceil(bytes / FILL_VALUE_BYTES);
      const hlc: Hlc = { wallMs: Math.floor(Date.now()), logical: 0, nodeId };
      let i = 0;
      let inflight = 0;
      let lastLog = performance.now();
      const finish = (failure: Error | null) =>
        e.close((closeErr) => {
          env.timers.cancelAll();
          const first = failure ?? closeErr;
          if (first !== null) reject(first);
          else resolve(count * FILL_VALUE_BYTES);
        });
      // A bounded number in flight: the engine holds writes back while a memtable flushes.
      const more = (): void => {
        while (i < count && inflight < 512) {
          const key = new TextEncoder().encode(`restart-fill-${String(i++).padStart(8, '0')}`);
          const record = encodeVersionedValue({ mode: 'lww', write: valueWrite(hlc, new Uint8Array(randomBytes(FILL_VALUE_BYTES))) });
          inflight++;
          e.put(replicaKey('default', key), record, undefined, (putErr) => {
            inflight--;
            if (putErr !== null) return finish(putErr);
            if (performance.now() - lastLog > 10_000) {
              lastLog = performance.now();
              log(`  restart fill: ${i} of ${count} values of ${FILL_VALUE_BYTES} B`);
            }
            if (i === count && inflight === 0) return finish(null);
            more();
          });
        }
      };
      more();
    });
  });
}

function processCpuMs(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in USER_HZ (100 per second on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Messages logged from `offset` on, as ms since `sinceWall`, up to `untilMs`. */
function timeline(logFile: string, offset: number, sinceWall: number, untilMs: number): { ms: number; msg: string }[] {
  const out: { ms: number; msg: string }[] = [];
  try {
    for (const line of fs.readFileSync(logFile).subarray(offset).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const l = JSON.parse(line) as { time?: string; msg?: string };
      const ms = Date.parse(l.time ?? '') - sinceWall;
      if (Number.isFinite(ms) && ms <= untilMs + 1000) out.push({ ms, msg: String(l.msg) });
    }
  } catch {
    // the log is optional
  }
  return out.slice(0, 30);
}

/** The recovery figures of the first "storage opened" line written after `offset`. */
function recoveryLine(logFile: string, offset: number): unknown {
  try {
    const text = fs.readFileSync(logFile).subarray(offset).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.includes('"storage opened"')) continue;
      const l = JSON.parse(line) as { recovery?: object; openMs?: number; processUptimeMs?: number };
      return { openMs: l.openMs ?? null, processUptimeMs: l.processUptimeMs ?? null, ...(l.recovery ?? {}) };
    }
  } catch {
    // the log is optional
  }
  return null;
}
