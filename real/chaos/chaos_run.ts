// One fault-injected run on real processes, in the spirit of Jepsen: a
// 5-node cluster of `ringkv start` processes (network namespaces when root
// with iproute2, loopback proxies otherwise), concurrent clients recording a
// history, a nemesis killing and restarting nodes and partitioning the
// network for the run's duration; then everything is healed, the clients
// stop, and the liveness phase reads every key at ALL until every replica's
// records (GET /admin/replicas) agree or the passes run out. The simulator's
// checkers judge the result: STRONG keys linearizable, every acknowledged
// write present or superseded, replicas converged, no read of bytes nobody
// wrote. A failing run keeps its directory: the history (`ringkv` format), an
// HTML page of it, the violations, and every node's data and log.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import seedrandom from 'seedrandom';
import { assert } from '../../io/assert.ts';
import { checkConvergence } from '../../sim/checkers/convergence.ts';
import { checkDurability } from '../../sim/checkers/durability.ts';
import type { CheckViolation, FinalState } from '../../sim/checkers/final_state.ts';
import { checkLinearizability } from '../../sim/checkers/linearizability.ts';
import { explainViolation, formatViolation } from '../../sim/checkers/linearizability_explanation.ts';
import { checkValidity } from '../../sim/checkers/validity.ts';
import { type ClientOp, toHistory } from '../../sim/client_op.ts';
import { ChaosCluster } from './chaos_cluster.ts';
import type { ChaosNetwork, NetworkMode } from './chaos_network.ts';
import { DEFAULT_GROUPS, ChaosWorkload } from './chaos_workload.ts';
import { writeChaosArtifacts } from './chaos_artifacts.ts';
import { LoopbackNetwork } from './loopback_network.ts';
import { Nemesis } from './nemesis.ts';
import { NetnsNetwork, netnsAvailable } from './netns_network.ts';
import { chaosRing, fetchReplicaRecords, replicaState } from './replica_state.ts';

export interface ChaosRunOptions {
  /** How long the nemesis injects faults. */
  durationMs: number;
  seed: number;
  nodes?: number;
  clients?: number;
  /** 'auto' picks netns when available. */
  mode?: 'auto' | NetworkMode;
  /** Where the run's files go; default a fresh directory under the OS temp dir. */
  dir?: string;
  /** Keep the directory after a passing run too. */
  keep?: boolean;
  report?: (line: string) => void;
  /** Sees what the checkers judged (lets a test show the checkers can fail on this run's data). */
  inspect?: (judged: { ops: readonly ClientOp[]; finalReads: readonly ClientOp[]; state: FinalState; lwwUncertaintyMs: number }) => void;
}

export interface ChaosChecks {
  linearizable: boolean | null;
  converged: boolean;
  lostWrites: number;
  invalidReads: number;
}

export interface ChaosResult {
  mode: NetworkMode;
  seed: number;
  nodes: number;
  clients: number;
  durationMs: number;
  wallMs: number;
  /** "read STRONG" -> {ok, fail, info}. */
  ops: Record<string, { ok: number; fail: number; info: number }>;
  faults: Record<string, number>;
  faultLog: string[];
  readPasses: number;
  /** Milliseconds from spawning a killed node's process until it served again, sorted. */
  restartMs: number[];
  checks: ChaosChecks;
  violations: CheckViolation[];
  /** Node processes that exited without being killed, and other harness-level problems. */
  problems: string[];
  passed: boolean;
  /** Kept on failure (or with keep): the run directory and its history files. */
  dir: string | null;
  artifacts: { history: string; html: string; violations: string } | null;
}

const REPLICATION_FACTOR = 3;
const VNODES = 16;
/** The HLC lease (200 ms) a restarted node may stamp ahead, plus clock resolution: LWW's uncertainty on one machine. */
const LWW_UNCERTAINTY_MS = 210;
const MAX_READ_PASSES = 12;

export const RINGKV_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/ringkv.mjs');

export async function runChaos(o: ChaosRunOptions): Promise<ChaosResult> {
  const report = o.report ?? ((line: string) => console.log(line));
  const nodes = o.nodes ?? 5;
  const clients = o.clients ?? 6;
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-chaos-'));
  fs.mkdirSync(dir, { recursive: true });
  const random = seedrandom(String(o.seed));
  const t0 = performance.now();
  const now = (): number => Math.round((performance.now() - t0) * 1000) / 1000;

  const network = await openNetwork(ids, o.mode ?? 'auto', report);
  report(`chaos: ${nodes} nodes, ${clients} clients, ${o.durationMs / 1000} s of faults, seed ${o.seed}, mode ${network.mode}` +
    (network.mode === 'netns' ? ' (a network namespace per node, bridge, blackhole routes and link down)' : ' (loopback ports, a cuttable TCP proxy per peer link)'));
  report(`chaos: run directory ${dir}`);
  const problems: string[] = [];
  const cluster = new ChaosCluster({
    dir, network, binPath: RINGKV_BIN, vnodes: VNODES, replicationFactor: REPLICATION_FACTOR, requestTimeoutMs: 2000,
    startTimeoutMs: 60_000, logLevel: 'info', report: (line) => report(`  ${line}`),
  });
  const emergency = (): void => {
    cluster.killAllSync();
    if (network instanceof NetnsNetwork) network.closeSync();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    emergency();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', emergency);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let workload: ChaosWorkload | null = null;
  let nemesis: Nemesis | null = null;
  let readPasses = 0;
  let checks: ChaosChecks = { linearizable: null, converged: false, lostWrites: 0, invalidReads: 0 };
  let violations: CheckViolation[] = [];
  try {
    await cluster.startAll();
    report(`chaos: cluster serving after ${(now() / 1000).toFixed(1)} s`);
    const urls = new Map(ids.map((id) => [id, network.httpUrl(id)]));
    workload = new ChaosWorkload({ clients, groups: DEFAULT_GROUPS, timeoutMs: 4000, thinkMs: 10, random, now }, urls, cluster.apiToken);
    nemesis = new Nemesis(cluster, network, {
      random, now, faultMs: [1500, 4500], gapMs: [500, 2500], maxKilled: 2, report,
    });
    workload.start();
    await nemesis.run(o.durationMs);
    await workload.stop();
    await nemesis.healAll();
    report(`chaos: faults stopped and healed at ${(now() / 1000).toFixed(1)} s; ${workload.ops.length} operations`);

    // Liveness phase: read everything at ALL (read repair) until the replicas agree.
    const keys = workload.keys();
    const ring = chaosRing(ids, VNODES);
    let state: FinalState | null = null;
    let misplaced: string[] = [];
    while (readPasses < MAX_READ_PASSES) {
      await new Promise((r) => setTimeout(r, readPasses === 0 ? 1000 : 1500));
      const via = ids[readPasses % ids.length]!;
      const ok = await workload.readAll(via, 'ALL', 1_000_000 + readPasses);
      readPasses++;
      const dumps = new Map(await Promise.all(ids.map(async (id) => [id, await fetchReplicaRecords(urls.get(id)!, cluster.apiToken, 10_000)] as const)));
      ({ state, misplaced } = replicaState({ ring, replicationFactor: REPLICATION_FACTOR, conflictMode: 'lww', keys, dumps }));
      const { converged, violations: diverged } = checkConvergence(state);
      report(`chaos: read pass ${readPasses} via ${via}: ${ok}/${keys.length} reads at ALL ok, replicas ${converged ? 'converged' : 'not converged yet'}`);
      for (const v of diverged.slice(0, 3)) report(`  ${v.key}: ${v.message}`);
      if (converged && ok === keys.length) break;
    }
    assert(state !== null, 'no read pass ran');
    problems.push(...misplaced);

    // Judgement.
    const strong = new Set(keys.filter((k) => k.group.linearizable).map((k) => k.key));
    const linHistory = toHistory(workload.ops, (op) => strong.has(op.key));
    const lin = checkLinearizability(linHistory, { maxSteps: 50_000_000, now: () => performance.now(), deadline: performance.now() + 120_000 });
    const linViolations: CheckViolation[] = [];
    let linearizable: boolean | null = null;
    if (lin.verdict === 'linearizable') linearizable = true;
    else if (lin.verdict === 'not-linearizable') {
      linearizable = false;
      for (const bad of lin.keys.filter((k) => k.verdict === 'not-linearizable')) {
        const v = explainViolation(linHistory, bad.key);
        linViolations.push({ check: 'linearizable', key: bad.key, message: v === null ? 'not linearizable' : formatViolation(linHistory, v) });
      }
    } else linViolations.push({ check: 'linearizable', key: '', message: `undecided: ${lin.reason}` });
    const convergence = checkConvergence(state);
    const durability = checkDurability(workload.ops, state.keys, { lwwUncertaintyMs: LWW_UNCERTAINTY_MS });
    const validity = checkValidity([...workload.ops, ...workload.finalReads], state.keys);
    checks = { linearizable, converged: convergence.converged, lostWrites: durability.lostWrites, invalidReads: validity.invalidReads };
    violations = [...linViolations, ...convergence.violations, ...durability.violations, ...validity.violations];
    o.inspect?.({ ops: workload.ops, finalReads: workload.finalReads, state, lwwUncertaintyMs: LWW_UNCERTAINTY_MS });
  } catch (err) {
    problems.push(`the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    nemesis?.stop();
    await workload?.stop();
    await cluster.killAll();
    await network.close();
    process.off('exit', emergency);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  problems.push(...cluster.unexpectedExits);

  const ops: ChaosResult['ops'] = {};
  for (const op of workload?.ops ?? []) {
    const k = `${op.kind} ${op.consistency}`;
    const c = (ops[k] ??= { ok: 0, fail: 0, info: 0 });
    c[op.outcome!]++;
  }
  const passed = problems.length === 0 && checks.linearizable === true && checks.converged && checks.lostWrites === 0 && checks.invalidReads === 0;
  const result: ChaosResult = {
    mode: network.mode, seed: o.seed, nodes, clients, durationMs: o.durationMs, wallMs: Math.round(now()),
    ops, faults: Object.fromEntries(nemesis?.counts ?? []), faultLog: (nemesis?.log ?? []).map((f) => `t=${f.at}ms ${f.what}`),
    readPasses, restartMs: [...cluster.restartMs].sort((a, b) => a - b), checks, violations, problems, passed, dir: null, artifacts: null,
  };
  if (!passed || o.keep === true) {
    result.dir = dir;
    if (workload !== null) result.artifacts = writeChaosArtifacts(dir, result, workload.ops, new Set(workload.keys().filter((k) => k.group.linearizable).map((k) => k.key)));
  } else {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/** Namespaces when asked for, or in auto mode when available and creatable; loopback otherwise. */
async function openNetwork(ids: string[], mode: 'auto' | NetworkMode, report: (line: string) => void): Promise<ChaosNetwork> {
  if (mode === 'netns') return NetnsNetwork.create(ids);
  if (mode === 'auto' && netnsAvailable()) {
    try {
      return NetnsNetwork.create(ids);
    } catch (err) {
      // Root without the right to create namespaces (a container without CAP_NET_ADMIN).
      report(`chaos: network namespaces unavailable (${(err as Error).message.split('\n')[0]}); using loopback`);
    }
  }
  return LoopbackNetwork.create(ids);
}
