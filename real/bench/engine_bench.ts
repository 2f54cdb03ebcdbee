// `ringkv bench engine [--json] [--quick]`: db_bench's workloads on ringkv's
// storage engine and on classic-level (LevelDB) in the same process and run,
// each in a fresh directory under the system temp dir, plus figures only
// ringkv reports: write and space amplification of both compaction
// strategies, the bloom filter's false-positive rate, and read latency while
// a compaction runs. See engine_bench_report.ts for the targets.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assert } from '../../io/assert.ts';
import { integerFlag, parseFlags } from '../cli/command.ts';
import { NodeRng } from '../node_rng.ts';
import { type BenchStoreFactory, classicLevelFactory } from './bench_stores.ts';
import { collectGarbage, combineRounds, ringkvFirst, type RoundResults } from './bench_rounds.ts';
import {
  type BloomFigures,
  type CaseRow,
  type CompactionFigures,
  type EngineBenchReport,
  evaluateTargets,
  type LatencySummary,
  type ReadLatencyFigures,
  renderReport,
} from './engine_bench_report.ts';
import { KEY_BYTES, type BenchKeys, makeKeys, makeValues, runWorkload, type WorkloadName, type WorkloadResult } from './engine_workloads.ts';
import { LatencySamples, microsBetween } from './latency_histogram.ts';
import type { EngineOptions } from '../../core/storage/engine.ts';
import { DEFAULT_ENGINE_OPTIONS } from '../../core/storage/engine_options.ts';
import { openRingkv, ringkvFactory, RingkvStore } from './ringkv_store.ts';
import { isRemovedFileName } from '../fs_disk.ts';

export interface EngineBenchConfig {
  quick: boolean;
  valueSizes: number[];
  inFlights: number[];
  /** Keys the fills write, by value size (the data set). */
  keysFor: (valueBytes: number) => number;
  /** Operations of each overwrite/read/delete workload. */
  ops: number;
  /** Durable writes per workload, by ops in flight (fsync per write is slow). */
  durableOpsFor: (inFlight: number) => number;
  /** Keys for the compaction-strategy comparison (100 B values). */
  compactionKeys: number;
  /**
   * Engine sizes for that comparison: scaled down (memtable, level 1 and
   * table targets) so a data set of tens of MB has the depth of a far larger
   * one, and the strategies differ as they would there.
   */
  strategyOptions: Partial<EngineOptions>;
  /** Keys behind the read-latency measurement (100 B values). */
  latencyKeys: number;
  /** Latency samples while idle; while compacting, as many as the compaction lasts for. */
  latencySamples: number;
  /** Options every ringkv engine of the run gets over the defaults. */
  engineOptions: Partial<EngineOptions>;
  /** Rounds of every store comparison, the stores alternating (bench_rounds.ts); the median is reported. */
  rounds: number;
  /** Runs every non-durable session once on a small data set, unrecorded, before the first round. */
  warmUp: boolean;
  /** A full garbage collection before every timed workload (bench_rounds.ts collectGarbage). */
  collectBeforeEach: boolean;
}

export const FULL_CONFIG: EngineBenchConfig = {
  quick: false,
  valueSizes: [100, 1024],
  inFlights: [1, 64],
  // Data sets of 11.6 MB and 31 MB: several memtables' worth, past the 8 MiB block caches.
  keysFor: (v) => (v <= 100 ? 100_000 : 30_000),
  ops: 30_000,
  durableOpsFor: (f) => (f === 1 ? 500 : 5_000),
  compactionKeys: 150_000,
  strategyOptions: { memtableBytes: 1024 * 1024, l1TargetBytes: 2 * 1024 * 1024, targetFileBytes: 512 * 1024 },
  latencyKeys: 150_000,
  latencySamples: 20_000,
  engineOptions: {},
  rounds: 3,
  warmUp: true,
  collectBeforeEach: true,
};

export const QUICK_CONFIG: EngineBenchConfig = {
  quick: true,
  valueSizes: [100, 1024],
  inFlights: [1, 64],
  keysFor: () => 2_000,
  ops: 1_000,
  durableOpsFor: (f) => (f === 1 ? 30 : 300),
  compactionKeys: 5_000,
  strategyOptions: {},
  latencyKeys: 3_000,
  latencySamples: 300,
  // Small memtables and levels, so even a smoke run flushes, compacts and probes filters.
  engineOptions: { memtableBytes: 128 * 1024, l1TargetBytes: 512 * 1024, targetFileBytes: 128 * 1024, compactionStepBytes: 64 * 1024 },
  rounds: 1,
  warmUp: false,
  collectBeforeEach: false,
};

const VALUE_POOL = 1021;

type Progress = (line: string) => void;

/** A run of workloads on one fresh store; every store runs the same sessions with the same seeds. */
interface Session {
  valueBytes: number;
  inFlight: number;
  durable: boolean;
  keySpace: number;
  steps: Array<{ workload: WorkloadName; ops: number }>;
}

function sessions(config: EngineBenchConfig): Session[] {
  const out: Session[] = [];
  for (const valueBytes of config.valueSizes) {
    const keys = config.keysFor(valueBytes);
    for (const inFlight of config.inFlights) {
      const ops = config.ops;
      out.push({ valueBytes, inFlight, durable: false, keySpace: keys, steps: [{ workload: 'fillseq', ops: keys }] });
      const reads: Session['steps'] = [
        { workload: 'fillrandom', ops: keys },
        { workload: 'overwrite', ops },
        { workload: 'readrandom', ops },
      ];
      if (inFlight === 1) reads.push({ workload: 'readrandom-sync', ops });
      reads.push({ workload: 'readmissing', ops });
      if (inFlight === 1) reads.push({ workload: 'readseq', ops: keys });
      reads.push({ workload: 'readwhilewriting', ops }, { workload: 'deleterandom', ops });
      out.push({ valueBytes, inFlight, durable: false, keySpace: keys, steps: reads });
      const d = config.durableOpsFor(inFlight);
      out.push({ valueBytes, inFlight, durable: true, keySpace: d, steps: [{ workload: 'fillseq', ops: d }] });
      out.push({
        valueBytes,
        inFlight,
        durable: true,
        keySpace: d,
        steps: [
          { workload: 'fillrandom', ops: d },
          { workload: 'overwrite', ops: d },
          { workload: 'deleterandom', ops: d },
        ],
      });
    }
  }
  return out;
}

function emptyBloom(): BloomFigures {
  return { checks: 0, negatives: 0, falsePositives: 0, falsePositiveRate: 0 };
}

export class TempDirs {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-bench-'));
  private n = 0;
  fresh(label: string): string {
    const dir = path.join(this.root, `${String(this.n++).padStart(3, '0')}-${label}`);
    fs.mkdirSync(dir);
    return dir;
  }
  remove(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  removeAll(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Bytes of every file in a directory, as the file system reports them (files FsDisk is unlinking left out). */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    if (isRemovedFileName(name)) continue;
    const st = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (st?.isFile()) total += st.size;
  }
  return total;
}

async function runSession(
  factory: BenchStoreFactory,
  session: Session,
  seed: number,
  keys: BenchKeys,
  values: Uint8Array[],
  dirs: TempDirs,
  bloom: BloomFigures,
  progress: Progress,
  round = '',
  collect = false,
): Promise<WorkloadResult[]> {
  const dir = dirs.fresh(`${factory.name}-${session.valueBytes}-x${session.inFlight}${session.durable ? '-sync' : ''}`);
  const store = await factory.open(dir, session.durable);
  const results: WorkloadResult[] = [];
  try {
    for (const [i, step] of session.steps.entries()) {
      const inFlight = step.workload === 'readrandom-sync' || step.workload === 'readseq' ? 1 : session.inFlight;
      const before = store instanceof RingkvStore ? store.stats().bloom : undefined;
      if (collect) collectGarbage();
      const r = await runWorkload(store, step.workload, {
        keySpace: session.keySpace,
        ops: step.ops,
        inFlight,
        keys,
        values,
        seed: seed * 31 + i,
      });
      if (step.workload === 'readmissing' && store instanceof RingkvStore && before) {
        const after = store.stats().bloom;
        bloom.checks += after.checks - before.checks;
        bloom.negatives += after.negatives - before.negatives;
        bloom.falsePositives += after.falsePositives - before.falsePositives;
      }
      results.push(r);
      progress(
        `  ${factory.name.padEnd(13)} ${step.workload.padEnd(16)} ${String(session.valueBytes).padStart(4)} B x${String(inFlight).padEnd(2)} ${
          session.durable ? 'fsync' : '     '
        } ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(11)} ops/s${round}`,
      );
    }
  } finally {
    await store.close();
    dirs.remove(dir);
  }
  return results;
}

/** The sessions on a small data set, unrecorded: both stores' code paths are compiled and warm before the first timed round. */
async function warmUp(config: EngineBenchConfig, dirs: TempDirs, keys: BenchKeys, progress: Progress): Promise<void> {
  const keySpace = Math.min(5_000, ...config.valueSizes.map(config.keysFor));
  const small = sessions(config)
    .filter((s) => !s.durable)
    .map((s) => ({ ...s, keySpace, steps: s.steps.map((step) => ({ ...step, ops: Math.min(step.ops, keySpace) })) }));
  const valuePools = new Map(config.valueSizes.map((v) => [v, makeValues(v, VALUE_POOL, v)]));
  progress(`engine bench: warm-up (${keySpace.toLocaleString('en-US')} keys per session, not recorded)`);
  for (const [s, session] of small.entries()) {
    const values = valuePools.get(session.valueBytes)!;
    for (const factory of [ringkvFactory(config.engineOptions), classicLevelFactory]) {
      await runSession(factory, session, s + 1, keys, values, dirs, emptyBloom(), () => {});
    }
  }
}

async function compareStores(config: EngineBenchConfig, dirs: TempDirs, keys: BenchKeys, bloom: BloomFigures, progress: Progress): Promise<CaseRow[]> {
  assert(Number.isInteger(config.rounds) && config.rounds >= 1, `rounds ${config.rounds}`);
  const rows: CaseRow[] = [];
  const valuePools = new Map(config.valueSizes.map((v) => [v, makeValues(v, VALUE_POOL, v)]));
  for (const [s, session] of sessions(config).entries()) {
    const values = valuePools.get(session.valueBytes)!;
    const perStep: RoundResults[] = session.steps.map(() => ({ ringkv: [], classicLevel: [] }));
    for (let round = 0; round < config.rounds; round++) {
      const label = config.rounds > 1 ? `  (round ${round + 1} of ${config.rounds})` : '';
      // Same seed for both stores and every round: identical operation sequences.
      const runOurs = async () => {
        const ours = await runSession(ringkvFactory(config.engineOptions), session, s + 1, keys, values, dirs, bloom, progress, label, config.collectBeforeEach);
        ours.forEach((r, i) => perStep[i]!.ringkv.push(r));
      };
      const runTheirs = async () => {
        const theirs = await runSession(classicLevelFactory, session, s + 1, keys, values, dirs, emptyBloom(), progress, label, config.collectBeforeEach);
        theirs.forEach((r, i) => perStep[i]!.classicLevel.push(r));
      };
      if (ringkvFirst(round)) {
        await runOurs();
        await runTheirs();
      } else {
        await runTheirs();
        await runOurs();
      }
    }
    session.steps.forEach((step, i) => {
      const combined = combineRounds(perStep[i]!);
      rows.push({
        workload: step.workload,
        valueBytes: session.valueBytes,
        inFlight: step.workload === 'readrandom-sync' || step.workload === 'readseq' ? 1 : session.inFlight,
        durable: session.durable,
        ringkv: combined.ringkv,
        classicLevel: combined.classicLevel,
        ratio: combined.ratio,
        ratios: combined.ratios,
        cpuRatio: combined.cpuRatio,
      });
    });
  }
  bloom.falsePositiveRate = bloom.falsePositives / Math.max(1, bloom.falsePositives + bloom.negatives);
  return rows;
}

async function compareStrategies(config: EngineBenchConfig, dirs: TempDirs, keys: BenchKeys, progress: Progress): Promise<CompactionFigures[]> {
  const valueBytes = 100;
  const values = makeValues(valueBytes, VALUE_POOL, 7);
  const n = config.compactionKeys;
  const out: CompactionFigures[] = [];
  for (const strategy of ['leveled', 'tiered'] as const) {
    const dir = dirs.fresh(`strategy-${strategy}`);
    const options = { ...config.engineOptions, ...config.strategyOptions, compaction: strategy, syncWrites: false };
    const store = await openRingkv(dir, options);
    try {
      const plan = { keySpace: n, ops: n, inFlight: 64, keys, values, seed: 99 };
      await runWorkload(store, 'fillrandom', plan);
      await runWorkload(store, 'overwrite', plan);
      await store.flush();
      const liveBytes = n * (KEY_BYTES + valueBytes);
      const snapshot = () => {
        const st = store.stats();
        const diskBytes = directoryBytes(dir);
        return {
          writeAmplification: st.writeAmplification,
          diskBytes,
          spaceAmplification: diskBytes / liveBytes,
          engineSpaceAmplification: st.spaceAmplification,
          tablesPerLevel: [...st.tablesPerLevel],
        };
      };
      const atEnd = snapshot();
      await store.compactAll();
      const settled = snapshot();
      const st = store.stats();
      out.push({
        strategy,
        keys: n,
        valueBytes,
        memtableBytes: options.memtableBytes ?? DEFAULT_ENGINE_OPTIONS.memtableBytes,
        l1TargetBytes: options.l1TargetBytes ?? DEFAULT_ENGINE_OPTIONS.l1TargetBytes,
        liveBytes,
        atEnd,
        settled,
        compactionsRun: st.compactionsRun,
        flushesRun: st.flushesRun,
      });
      progress(`  ringkv ${strategy.padEnd(8)} write amp ${settled.writeAmplification.toFixed(2)}, space amp ${atEnd.spaceAmplification.toFixed(2)} -> ${settled.spaceAmplification.toFixed(2)}`);
    } finally {
      await store.close();
      dirs.remove(dir);
    }
  }
  return out;
}

function summarize(s: LatencySamples): LatencySummary {
  return { samples: s.count, p50Micros: s.percentile(50), p99Micros: s.percentile(99), maxMicros: s.percentile(100) };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface ReadSamples {
  /** The get call itself. */
  service: LatencySamples;
  /** Issued, served on the event loop's next turn (behind any queued compaction step), answered. */
  queued: LatencySamples;
}

/** One read per event-loop turn, so background steps run between samples as they would between requests. */
async function sampleReads(store: RingkvStore, keys: BenchKeys, keySpace: number, rng: NodeRng, max: number, keepGoing: () => boolean): Promise<ReadSamples> {
  const samples = { service: new LatencySamples(), queued: new LatencySamples() };
  while (samples.service.count < max && keepGoing()) {
    const key = keys.present[rng.int(keySpace)]!;
    const issued = process.hrtime.bigint();
    await nextTurn();
    const start = process.hrtime.bigint();
    const v = store.get(key);
    const end = process.hrtime.bigint();
    samples.service.record(microsBetween(start, end));
    samples.queued.record(microsBetween(issued, end));
    assert(v !== undefined, 'a key the fill wrote is missing');
  }
  return samples;
}

/** Reads keys [0, n) once, in order, without yielding to the event loop. */
function warmCaches(store: RingkvStore, keys: BenchKeys, n: number): void {
  for (let k = 0; k < n; k++) assert(store.get(keys.present[k]!) !== undefined, 'a key the fill wrote is missing');
}

/**
 * Read latency with a compaction running vs not, on the same tables: level 0
 * is filled with overlapping tables while the compaction trigger is out of
 * reach; the idle figure is taken on them, then the engine is reopened with
 * the normal trigger, which starts merging them at once, and reads are
 * sampled until compactAll reports nothing is left to do. Each open starts
 * with empty caches, so each is first warmed the same way (every key read
 * once, in one synchronous pass: no compaction step runs before it ends);
 * otherwise the compacting figures would measure a cold cache.
 */
export async function readLatencyDuringCompaction(config: EngineBenchConfig, dirs: TempDirs, keys: BenchKeys, progress: Progress): Promise<ReadLatencyFigures> {
  const n = config.latencyKeys;
  const values = makeValues(100, VALUE_POOL, 11);
  const dir = dirs.fresh('latency');
  const normal = { ...config.engineOptions, compaction: 'leveled' as const, syncWrites: false };
  const held = { ...normal, l0CompactionTrigger: 1000, l0SlowdownTrigger: 1000, l0StopTrigger: 1000 };
  const rng = new NodeRng([3, 1, 4, 1]);
  try {
    let store = await openRingkv(dir, held);
    const plan = { keySpace: n, ops: n, inFlight: 64, keys, values, seed: 5 };
    await runWorkload(store, 'fillrandom', plan);
    await runWorkload(store, 'overwrite', { ...plan, seed: 6 });
    await store.flush();
    await store.close();
    store = await openRingkv(dir, held);
    warmCaches(store, keys, n);
    const level0 = store.stats().tablesPerLevel[0]!;
    await sampleReads(store, keys, n, rng, Math.min(2_000, config.latencySamples), () => true); // warm caches and code
    const idle = await sampleReads(store, keys, n, rng, config.latencySamples, () => true);
    await store.close();
    store = await openRingkv(dir, normal);
    warmCaches(store, keys, n);
    let compacting = true;
    const done = store.compactAll().finally(() => {
      compacting = false;
    });
    const during = await sampleReads(store, keys, n, rng, Number.POSITIVE_INFINITY, () => compacting);
    await done;
    const st = store.stats();
    await store.close();
    assert(during.service.count > 0, 'the compaction finished before a single read was sampled');
    const figures: ReadLatencyFigures = {
      level0Tables: level0,
      idle: summarize(idle.service),
      compacting: summarize(during.service),
      p99Ratio: during.service.percentile(99) / idle.service.percentile(99),
      queued: {
        idle: summarize(idle.queued),
        compacting: summarize(during.queued),
        p99Ratio: during.queued.percentile(99) / idle.queued.percentile(99),
      },
      compactionBytesWritten: st.compactionBytesWritten,
      compactionStepMs: normal.compactionStepMs ?? DEFAULT_ENGINE_OPTIONS.compactionStepMs,
    };
    progress(
      `  ringkv get p99 idle ${figures.idle.p99Micros.toFixed(1)} us, compacting ${figures.compacting.p99Micros.toFixed(1)} us; queued p99 ${figures.queued.idle.p99Micros.toFixed(1)} -> ${figures.queued.compacting.p99Micros.toFixed(1)} us (${during.service.count} samples, ${level0} level-0 tables merged)`,
    );
    return figures;
  } finally {
    dirs.remove(dir);
  }
}

export async function runEngineBench(config: EngineBenchConfig, progress: Progress = () => {}): Promise<EngineBenchReport> {
  const start = process.hrtime.bigint();
  const dirs = new TempDirs();
  try {
    const maxKeys = Math.max(...config.valueSizes.map(config.keysFor), config.compactionKeys);
    const keys = makeKeys(maxKeys);
    const bloom = emptyBloom();
    if (config.warmUp) await warmUp(config, dirs, keys, progress);
    progress(`engine bench: ringkv vs classic-level, ${config.rounds} round${config.rounds === 1 ? '' : 's'}, the stores taking turns to go first`);
    const cases = await compareStores(config, dirs, keys, bloom, progress);
    progress('engine bench: compaction strategies');
    const compaction = await compareStrategies(config, dirs, keys, progress);
    progress('engine bench: read latency while compacting');
    const readLatency = await readLatencyDuringCompaction(config, dirs, keys, progress);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const partial = { quick: config.quick, seconds, rounds: config.rounds, cases, compaction, bloom, readLatency };
    return { ...partial, targets: evaluateTargets(partial) };
  } finally {
    dirs.removeAll();
  }
}

/** The `bench engine` entry point: a table on stdout (or one JSON object), progress on stderr. */
export async function runEngineBenchCommand(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, { booleans: ['json', 'quick'], strings: ['rounds'] });
  const base = flags.has('quick') ? QUICK_CONFIG : FULL_CONFIG;
  const rounds = integerFlag(flags, 'rounds', base.rounds, { min: 1 });
  const config = { ...base, rounds };
  const report = await runEngineBench(config, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(flags.has('json') ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
  return 0;
}
