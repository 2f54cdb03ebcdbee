// `ringkv bench cluster`: a 3-node local cluster (three `ringkv start`
// processes on loopback, fresh temporary data, group-commit durability, or
// with --durability periodic an fsync every --sync-interval ms, the mode
// comparable to the reference's appendfsync everysec)
// under a load generator of several processes (load_pool.ts) with
// keep-alive connections spread over the nodes, 1 KiB values, for ONE,
// QUORUM and STRONG: puts, gets and a 50/50 mix. In the same run the same
// generator drives a single-node Redis (appendfsync everysec) as the
// reference, and every figure is printed with its ratio to Redis. A third
// system, the relay (relay_ceiling.ts: three Node processes doing only a
// QUORUM request's HTTP and peer round trips, no storage), shows what Node
// itself reaches on this machine with the same generator; ringkv's figures
// are also given as a fraction of it.
//
// Before its first measurement every system gets the same unmeasured
// warm-up (a closed-loop 50/50 mix), long enough for V8 to have compiled
// the hot paths, so no system's ladder starts on interpreted code.
//
// Per workload: the peak throughput, found closed-loop by raising the
// number of connections until throughput stops growing (connection_ladder.ts);
// then, once the servers have gone quiet again (process_cpu.ts), latency
// percentiles open-loop at half that peak (load_worker.ts says how latency
// is counted). Gets read keys written by a fill before the measurements.
// With --restart, a node holding 1 GiB is killed and restarted
// (cluster_restart_bench.ts).

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { integerFlag, parseFlags, UsageError } from '../cli/command.ts';
import { LocalCluster } from '../local_cluster.ts';
import { type RestartFigures, measureRestart } from './cluster_restart_bench.ts';
import { ConnectionLadder } from './connection_ladder.ts';
import type { LoadTarget } from './load_connection.ts';
import { LoadPool, type MergedLoadResult } from './load_pool.ts';
import { cpuMicros, perOp, waitUntilQuiet } from './process_cpu.ts';
import { REDIS_INSTALL_HINT, RedisServer } from './redis_server.ts';
import { RelayCeiling } from './relay_ceiling.ts';

const LEVELS = ['ONE', 'QUORUM', 'STRONG'] as const;
const WORKLOADS = [
  { name: 'put', putFraction: 1 },
  { name: 'get', putFraction: 0 },
  { name: 'mix', putFraction: 0.5 },
] as const;
const VALUE_BYTES = 1024;
/** Before each open loop, the servers are let work off what the ladder's peak left them (waitUntilQuiet). */
const QUIET = { windowMs: 250, maxCores: 0.2, maxWaitMs: 15_000 };
const TARGET_P99_MS = 5;
const TARGET_MIX_OPS = 10_000;

interface Settings {
  keys: number;
  ladder: number[];
  stepMs: number;
  openMs: number;
  warmupMs: number;
  /** The unmeasured mix each system runs once before its ladders. */
  jitWarmupMs: number;
  clients: number;
}

export interface WorkloadFigures {
  workload: string;
  ladder: { connections: number; opsPerSec: number; errors: number; serverCpuUsPerOp: number | null; loadCpuUsPerOp: number | null }[];
  peakOpsPerSec: number;
  peakConnections: number;
  /**
   * Server CPU time (user + system, all server processes) per operation at
   * the peak: on a shared machine a steadier figure than ops/s, which
   * depends on how much CPU the other tenants leave.
   */
  serverCpuUsPerOp: number | null;
  /**
   * The load generator's own CPU time per operation at the peak: it shares
   * the machine's cores with the servers, so what it spends they cannot use.
   */
  loadCpuUsPerOp: number | null;
  /** Open loop at half the peak: */
  rate: number;
  /** How long the servers took to go quiet after the ladder (process_cpu.ts), and whether they did before QUIET.maxWaitMs. */
  settledMs: number;
  settledQuiet: boolean;
  achievedOpsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  errors: number;
  unsent: number;
  /**
   * ringkv only (null for the others), during the workload, summed over the
   * nodes: times a write found an engine stopped (memtable or level 0 full),
   * and 1 ms slowdown delays of an engine's write queue (level 0 over its
   * slowdown trigger). Either one shows up in the tail as a stall.
   */
  writeStops: number | null;
  writeSlowdowns: number | null;
}

export interface SystemFigures {
  system: 'ringkv' | 'redis' | 'relay';
  level: string | null;
  workloads: WorkloadFigures[];
}

export type BenchDurability = { mode: 'group-commit' } | { mode: 'periodic'; syncIntervalMs: number };

export interface ClusterBenchReport {
  machine: { cpus: number; loadAverage: number[] };
  settings: Settings & { valueBytes: number; nodes: number; durability: BenchDurability };
  ringkv: SystemFigures[];
  redis: (SystemFigures & { version: string }) | null;
  redisMissing: string | null;
  /** The Node ceiling (relay_ceiling.ts); null with --no-relay. */
  relay: SystemFigures | null;
  targets: { quorumP99Ms: { put: number; get: number; limit: number; met: boolean }; quorumMixOpsPerSec: { value: number; limit: number; met: boolean } };
  restart: RestartFigures | null;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function waitForLinks(cluster: LocalCluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ready = true;
    for (const n of cluster.nodes) {
      try {
        const status = (await (await fetch(`http://${n.http}/admin/status`)).json()) as { members: { self: boolean; link: string | null }[] };
        if (!status.members.every((m) => m.self || m.link === 'ready')) ready = false;
      } catch {
        ready = false;
      }
    }
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`peer links not all up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Write stops and slowdowns so far, summed over the nodes (admin status). */
type StallCounter = () => Promise<{ stops: number; slowdowns: number }>;

function clusterStalls(cluster: LocalCluster): StallCounter {
  return async () => {
    let stops = 0;
    let slowdowns = 0;
    for (const n of cluster.nodes) {
      const status = (await (await fetch(`http://${n.http}/admin/status`)).json()) as { storage?: { writeStops?: number; writeSlowdowns?: number } };
      stops += status.storage?.writeStops ?? 0;
      slowdowns += status.storage?.writeSlowdowns ?? 0;
    }
    return { stops, slowdowns };
  };
}

/** Every workload against one set of targets: fill, then peak and half-peak latency per workload. */
async function measureSystem(
  pool: LoadPool,
  targets: LoadTarget[],
  serverPids: number[],
  s: Settings,
  fill: boolean,
  log: (l: string) => void,
  label: string,
  stalls: StallCounter | null = null,
): Promise<WorkloadFigures[]> {
  const base = { targets, keys: s.keys, valueBytes: VALUE_BYTES, ratePerSec: 0, warmupMs: 0, durationMs: 0 };
  if (fill) {
    const r = await pool.run({ ...base, mode: 'fill', connections: 32, putFraction: 1 });
    log(`  ${label}: filled ${s.keys} keys at ${Math.round(r.opsPerSec)} puts/s (${r.errors} errors)`);
    const w = await pool.run({ ...base, mode: 'closed', connections: 32, putFraction: 0.5, durationMs: s.jitWarmupMs });
    log(`  ${label}: warm-up mix for ${(s.jitWarmupMs / 1000).toFixed(1)} s at ${Math.round(w.opsPerSec)} ops/s (not measured)`);
  }
  const out: WorkloadFigures[] = [];
  for (const w of WORKLOADS) {
    const stalls0 = stalls === null ? null : await stalls();
    const ladder: WorkloadFigures['ladder'] = [];
    let best = { connections: 0, opsPerSec: 0, serverCpuUsPerOp: null as number | null, loadCpuUsPerOp: null as number | null };
    const search = new ConnectionLadder();
    for (const connections of s.ladder) {
      const cpu0 = cpuMicros(serverPids);
      const gen0 = cpuMicros(pool.pids);
      const r = await pool.run({ ...base, mode: 'closed', connections, putFraction: w.putFraction, durationMs: s.stepMs, warmupMs: s.warmupMs });
      const cpu1 = cpuMicros(serverPids);
      const gen1 = cpuMicros(pool.pids);
      // The CPU window includes the warm-up, so it is divided by the requests of the whole step.
      const ops = (r.opsPerSec * s.stepMs) / 1000;
      const serverCpuUsPerOp = perOp(cpu0, cpu1, ops);
      const loadCpuUsPerOp = perOp(gen0, gen1, ops);
      ladder.push({ connections, opsPerSec: r.opsPerSec, errors: r.errors, serverCpuUsPerOp, loadCpuUsPerOp });
      if (r.opsPerSec > best.opsPerSec) best = { connections, opsPerSec: r.opsPerSec, serverCpuUsPerOp, loadCpuUsPerOp };
      if (!search.offer(r.opsPerSec)) break;
    }
    const rate = best.opsPerSec / 2;
    const settled = await waitUntilQuiet(serverPids, QUIET);
    const r: MergedLoadResult = await pool.run({ ...base, mode: 'open', connections: Math.max(8, best.connections), ratePerSec: rate, putFraction: w.putFraction, durationMs: s.openMs, warmupMs: s.warmupMs });
    const stalls1 = stalls === null ? null : await stalls();
    const pct = (p: number) => (r.latency.count > 0 ? r.latency.percentile(p) / 1000 : Number.NaN);
    const figures: WorkloadFigures = {
      workload: w.name,
      ladder,
      peakOpsPerSec: best.opsPerSec,
      peakConnections: best.connections,
      serverCpuUsPerOp: best.serverCpuUsPerOp,
      loadCpuUsPerOp: best.loadCpuUsPerOp,
      rate,
      settledMs: settled.waitedMs,
      settledQuiet: settled.quiet,
      achievedOpsPerSec: r.opsPerSec,
      p50Ms: pct(50),
      p99Ms: pct(99),
      p999Ms: pct(99.9),
      errors: r.errors + ladder.reduce((a, l) => a + l.errors, 0),
      unsent: r.unsent,
      writeStops: stalls0 === null || stalls1 === null ? null : stalls1.stops - stalls0.stops,
      writeSlowdowns: stalls0 === null || stalls1 === null ? null : stalls1.slowdowns - stalls0.slowdowns,
    };
    log(`  ${label} ${w.name}: peak ${Math.round(best.opsPerSec)} ops/s at ${best.connections} connections, ${best.serverCpuUsPerOp?.toFixed(0) ?? '?'} us server CPU/op, ${best.loadCpuUsPerOp?.toFixed(0) ?? '?'} us generator CPU/op; at ${Math.round(rate)}/s (after ${figures.settledQuiet ? '' : 'no quiet in '}${(figures.settledMs / 1000).toFixed(1)} s to settle) p50 ${figures.p50Ms.toFixed(2)} ms p99 ${figures.p99Ms.toFixed(2)} ms p999 ${figures.p999Ms.toFixed(2)} ms${figures.writeStops === null ? '' : `; write stops ${figures.writeStops}, slowdowns ${figures.writeSlowdowns}`}`);
    out.push(figures);
  }
  return out;
}

export async function runClusterBench(o: { quick: boolean; restart: boolean; restartBytes: number; clients: number; redis: boolean; relay: boolean; durability?: BenchDurability; log: (line: string) => void }): Promise<ClusterBenchReport> {
  const durability: BenchDurability = o.durability ?? { mode: 'group-commit' };
  const s: Settings = o.quick
    ? { keys: 5_000, ladder: [8, 32, 96], stepMs: 1500, openMs: 2500, warmupMs: 300, jitWarmupMs: 1_500, clients: o.clients }
    : { keys: 20_000, ladder: [4, 16, 48, 128, 256], stepMs: 3000, openMs: 5000, warmupMs: 500, jitWarmupMs: 12_000, clients: o.clients };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-bench-cluster-'));
  const binPath = fileURLToPath(new URL('../../bin/ringkv.mjs', import.meta.url));
  let cluster: LocalCluster | null = null;
  let redis: RedisServer | null = null;
  let relay: RelayCeiling | null = null;
  let pool: LoadPool | null = null;
  try {
    const ports = await freePorts(13);
    cluster = await LocalCluster.start({
      durability,
      dataDir: path.join(root, 'cluster'),
      nodes: 3,
      host: '127.0.0.1',
      httpPorts: ports.slice(0, 3),
      peerPorts: ports.slice(3, 6),
      logLevel: 'info',
      binPath,
      startTimeoutMs: 60_000,
      report: (line) => o.log(`  ${line}`),
    });
    await waitForLinks(cluster, 30_000);
    pool = await LoadPool.start(o.clients);
    o.log(`cluster of 3 up (${cluster.nodes.map((n) => `${n.id} ${n.http}`).join(', ')}); ${o.clients} load processes`);

    const ringkv: SystemFigures[] = [];
    for (const level of LEVELS) {
      const targets: LoadTarget[] = cluster.nodes.map((n) => {
        const [host, port] = n.http.split(':');
        return { kind: 'http', host: host!, port: Number(port), keyspace: 'default', consistency: level };
      });
      ringkv.push({ system: 'ringkv', level, workloads: await measureSystem(pool, targets, cluster.pids, s, level === LEVELS[0], o.log, `ringkv ${level}`, clusterStalls(cluster)) });
    }

    let redisFigures: ClusterBenchReport['redis'] = null;
    let redisMissing: string | null = null;
    if (o.redis) {
      const redisDir = path.join(root, 'redis');
      fs.mkdirSync(redisDir);
      redis = await RedisServer.start(redisDir, ports[6]!);
      if (redis === null) {
        redisMissing = REDIS_INSTALL_HINT;
        o.log(redisMissing);
      } else {
        const targets: LoadTarget[] = [{ kind: 'resp', host: '127.0.0.1', port: redis.port }];
        redisFigures = { system: 'redis', level: null, version: redis.version, workloads: await measureSystem(pool, targets, [redis.pid], s, true, o.log, 'redis') };
        await redis.stop();
        redis = null;
      }
    } else {
      redisMissing = 'skipped (--no-redis)';
    }

    let relayFigures: SystemFigures | null = null;
    if (o.relay) {
      relay = await RelayCeiling.start(ports.slice(7, 10), ports.slice(10, 13));
      const targets: LoadTarget[] = ports.slice(7, 10).map((port) => ({ kind: 'http', host: '127.0.0.1', port, keyspace: 'default', consistency: 'QUORUM' }));
      relayFigures = { system: 'relay', level: null, workloads: await measureSystem(pool, targets, relay.pids, s, true, o.log, 'relay') };
      relay.stop();
      relay = null;
    }
    pool.stop();
    pool = null;

    const restart = o.restart ? await measureRestart(cluster, binPath, o.restartBytes, o.log) : null;
    const quorum = ringkv.find((f) => f.level === 'QUORUM')!;
    const q = (w: string) => quorum.workloads.find((x) => x.workload === w)!;
    return {
      machine: { cpus: os.cpus().length, loadAverage: os.loadavg() },
      settings: { ...s, valueBytes: VALUE_BYTES, nodes: 3, durability },
      ringkv,
      redis: redisFigures,
      redisMissing,
      relay: relayFigures,
      targets: {
        quorumP99Ms: { put: q('put').p99Ms, get: q('get').p99Ms, limit: TARGET_P99_MS, met: q('put').p99Ms < TARGET_P99_MS && q('get').p99Ms < TARGET_P99_MS },
        quorumMixOpsPerSec: { value: q('mix').peakOpsPerSec, limit: TARGET_MIX_OPS, met: q('mix').peakOpsPerSec >= TARGET_MIX_OPS },
      },
      restart,
    };
  } finally {
    pool?.stop();
    relay?.stop();
    await redis?.stop();
    await cluster?.stop('SIGTERM', 20_000);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export function renderClusterBench(r: ClusterBenchReport): string {
  const n = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
  const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const ratio = (a: number, b: number | undefined) => (b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '' : `${(a / b).toFixed(2)}x`);
  const ref = (w: string) => r.redis?.workloads.find((x) => x.workload === w);
  const lines = [
    `ringkv bench cluster: 3 nodes on loopback (one process each, ${r.settings.durability.mode === 'periodic' ? `periodic fsync every ${r.settings.durability.syncIntervalMs} ms` : 'group commit: fsync per write batch'}), ${r.settings.clients} load processes, ${r.settings.valueBytes} B values, ${r.settings.keys} keys`,
    `machine: ${r.machine.cpus} CPUs, load average ${r.machine.loadAverage.map((x) => x.toFixed(1)).join(' ')}; reference: ${r.redis ? `Redis ${r.redis.version} (appendfsync everysec)` : r.redisMissing}`,
    '',
    '  system  level   op    peak ops/s  conns  vs redis  CPU us/op  vs redis  gen us/op  | at half peak:  p50 ms   p99 ms  p999 ms  p99 vs redis  errors',
  ];
  const rows: SystemFigures[] = [...r.ringkv, ...(r.redis ? [r.redis] : []), ...(r.relay ? [r.relay] : [])];
  for (const sys of rows) {
    for (const w of sys.workloads) {
      const red = sys.system === 'redis' ? undefined : ref(w.workload);
      lines.push(
        `  ${sys.system.padEnd(6)}  ${(sys.level ?? '-').padEnd(6)}  ${w.workload.padEnd(3)}  ${n(w.peakOpsPerSec).padStart(10)}  ${String(w.peakConnections).padStart(5)}  ${ratio(w.peakOpsPerSec, red?.peakOpsPerSec).padStart(8)}  ${n(w.serverCpuUsPerOp ?? Number.NaN).padStart(9)}  ${ratio(w.serverCpuUsPerOp ?? Number.NaN, red?.serverCpuUsPerOp ?? undefined).padStart(8)}  ${n(w.loadCpuUsPerOp ?? Number.NaN).padStart(9)}  | ${n(w.rate).padStart(6)}/s ${ms(w.p50Ms).padStart(7)}  ${ms(w.p99Ms).padStart(7)}  ${ms(w.p999Ms).padStart(7)}  ${ratio(w.p99Ms, red?.p99Ms).padStart(12)}  ${String(w.errors).padStart(6)}`,
      );
    }
  }
  if (r.relay !== null) {
    const quorum = r.ringkv.find((f) => f.level === 'QUORUM');
    const parts = r.relay.workloads.map((rw) => {
      const q = quorum?.workloads.find((x) => x.workload === rw.workload);
      return `${rw.workload} ${ratio(q?.peakOpsPerSec ?? Number.NaN, rw.peakOpsPerSec) || '-'} ops/s, ${ratio(q?.serverCpuUsPerOp ?? Number.NaN, rw.serverCpuUsPerOp ?? undefined) || '-'} CPU/op`;
    });
    lines.push('', `ringkv QUORUM vs the relay (Node's ceiling here: HTTP plus two peer round trips, no storage): ${parts.join('; ')}`);
  }
  const stalled = r.ringkv.flatMap((f) => f.workloads.filter((w) => (w.writeStops ?? 0) + (w.writeSlowdowns ?? 0) > 0).map((w) => `${f.level} ${w.workload} ${w.writeStops} stops, ${w.writeSlowdowns} slowdowns`));
  lines.push('', `ringkv write stalls (all nodes; stops: writes that found an engine stopped, slowdowns: 1 ms delays of its write queue): ${stalled.length === 0 ? 'none' : stalled.join('; ')}`);
  const t = r.targets;
  lines.push('', `targets: QUORUM p99 at half peak < ${t.quorumP99Ms.limit} ms: put ${ms(t.quorumP99Ms.put)}, get ${ms(t.quorumP99Ms.get)} -> ${t.quorumP99Ms.met ? 'met' : 'NOT met'}`);
  lines.push(`         QUORUM 50/50 peak >= ${n(t.quorumMixOpsPerSec.limit)} ops/s: ${n(t.quorumMixOpsPerSec.value)} -> ${t.quorumMixOpsPerSec.met ? 'met' : 'NOT met'}`);
  if (r.restart !== null) {
    const x = r.restart;
    lines.push(
      '',
      `restart: ${(x.userBytes / 2 ** 30).toFixed(2)} GiB written (filled in ${x.fillSeconds.toFixed(0)} s), killed node's data directory ${(x.dataDirBytes / 2 ** 30).toFixed(2)} GiB, SIGKILL then start:`,
      `  /admin/status after ${n(x.statusMs)} ms, first get after ${n(x.getMs)} ms (target ${n(x.targetMs)} ms: ${x.met ? 'met' : 'NOT met'}); the process had used ${x.cpuMsAtGet === null ? '?' : n(x.cpuMsAtGet)} ms of CPU by then`,
      `  recovery: ${JSON.stringify(x.recovery)}`,
      `  restarted node's log: ${x.timeline.map((t) => `${t.ms} ms ${t.msg}`).join('; ')}`,
    );
  }
  lines.push('', 'CPU us/op: user + system CPU of the server processes (all three nodes, redis-server, or the three relay processes) per operation at the peak; steadier than ops/s on a shared machine. gen us/op: the same for the load generator processes, which share the cores.');
  return lines.join('\n');
}

export async function runClusterBenchCommand(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, { booleans: ['json', 'quick', 'restart', 'no-redis', 'no-relay'], strings: ['clients', 'restart-gib', 'durability', 'sync-interval'] });
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const clients = integerFlag(flags, 'clients', 2, { min: 1, max: 16 });
  const gib = Number(flags.get('restart-gib') ?? 1);
  if (!(gib > 0 && gib <= 64)) throw new UsageError('--restart-gib needs a number in (0, 64]');
  const mode = flags.get('durability') ?? 'group-commit';
  if (mode !== 'group-commit' && mode !== 'periodic') throw new UsageError('--durability must be group-commit or periodic');
  const syncIntervalMs = integerFlag(flags, 'sync-interval', 100, { min: 1, max: 60_000, unit: 'ms' });
  if (flags.has('sync-interval') && mode !== 'periodic') throw new UsageError('--sync-interval applies only with --durability periodic');
  const durability: BenchDurability = mode === 'periodic' ? { mode, syncIntervalMs } : { mode };
  const json = flags.has('json');
  const report = await runClusterBench({
    quick: flags.has('quick'),
    restart: flags.has('restart'),
    restartBytes: Math.round(gib * 2 ** 30),
    clients,
    redis: !flags.has('no-redis'),
    relay: !flags.has('no-relay'),
    durability,
    log: (line) => console.error(line),
  });
  console.log(json ? JSON.stringify(report) : renderClusterBench(report));
  return 0;
}
