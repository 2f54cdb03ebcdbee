// Model-based test of the engine on the simulator's SimDisk: random sequences
// of writes (single and batched, with TTLs), reads, scans, flushes,
// compactions, time passing (TTL expiry, tombstone grace), crashes at a random
// event (mid-write, mid-flush, mid-compaction, mid-recovery) with the disk
// keeping, losing or tearing unsynced data, and bit flips in tables, checked
// against a plain Map model.
//
// The model is the history of write batches in issue order, which is the
// engine's seq order. Writes are acknowledged in that order, and reads see
// exactly the acknowledged prefix. After a crash and reopen, the engine must
// hold the state of some prefix that includes every acknowledged write: no
// acknowledged write lost, deleted keys still deleted, nothing that was never
// written. After a bit flip a read may fail with CorruptionError, but what it
// returns must still be right. Once the engine quarantines a corrupt table,
// a key inside that table's key range may read as missing or as any older
// value it had, until a write issued after the quarantine covers it; every
// other key keeps the strict rules.
//
// A TTL's expiry is fixed when the engine applies the write, somewhere between
// the call and its acknowledgement (or the crash): the model keeps that window
// and accepts either answer for a read that falls inside it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator, type SimNode } from '../../sim/simulator.ts';
import { Engine, type EngineOptions, type WriteOp } from './engine.ts';
import { CorruptionError } from './errors.ts';
import { parseFileName } from './manifest.ts';

const KEYS = 24;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const keyName = (k: number) => `k${String(k).padStart(2, '0')}`;

type ModelOp = { k: number; del: boolean; ttl?: number; pad: number };
type Op =
  | { t: 'write'; ops: ModelOp[] }
  | { t: 'get'; k: number }
  | { t: 'scan'; a: number; b: number; limit?: number }
  | { t: 'flush' }
  | { t: 'compact' }
  | { t: 'run'; events: number }
  | { t: 'advance'; ms: number }
  | { t: 'crash'; target: 'any' | 'flush' | 'compaction'; events: number; reopenBudgets: number[] }
  | { t: 'corrupt'; pick: number; offset: number; bit: number };

interface WriteRecord {
  ops: Array<{ key: string; value?: string; ttl?: number }>;
  /** Wall time of the call, and a bound on when it was applied (ack or crash). */
  calledAt: number;
  appliedBy: number;
  acked: boolean;
}

/** What the model knows of one key: absent, or a value live until an expiry known within [expMin, expMax]. */
type KeyState = { value: string; expMin: number; expMax: number } | undefined;

const modelOp: fc.Arbitrary<ModelOp> = fc.record(
  {
    k: fc.nat(KEYS - 1),
    del: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
    ttl: fc.constantFrom(5, 40, 300, 5000),
    pad: fc.nat(300),
  },
  { requiredKeys: ['k', 'del', 'pad'] },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.array(modelOp, { minLength: 1, maxLength: 1 }).map((ops) => ({ t: 'write' as const, ops })) },
  { weight: 4, arbitrary: fc.array(modelOp, { minLength: 2, maxLength: 5 }).map((ops) => ({ t: 'write' as const, ops })) },
  { weight: 8, arbitrary: fc.nat(KEYS - 1).map((k) => ({ t: 'get' as const, k })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ a: fc.nat(KEYS), b: fc.nat(KEYS), limit: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) })
      .map(({ a, b, limit }) => ({ t: 'scan' as const, a: Math.min(a, b), b: Math.max(a, b), ...(limit ? { limit } : {}) })),
  },
  { weight: 2, arbitrary: fc.constant({ t: 'flush' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'compact' as const }) },
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 60 }).map((events) => ({ t: 'run' as const, events })) },
  { weight: 3, arbitrary: fc.constantFrom(1, 10, 50, 400).map((ms) => ({ t: 'advance' as const, ms })) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        target: fc.constantFrom('any' as const, 'flush' as const, 'compaction' as const),
        events: fc.nat(150),
        reopenBudgets: fc.array(fc.nat(14), { maxLength: 2 }),
      })
      .map((c) => ({ t: 'crash' as const, ...c })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ pick: fc.nat(), offset: fc.nat(), bit: fc.nat(7) }).map((c) => ({ t: 'corrupt' as const, ...c })),
  },
);

const config = fc.record({
  seed: fc.integer({ min: 1, max: 1e9 }),
  compaction: fc.constantFrom('leveled' as const, 'tiered' as const),
  graceMs: fc.constantFrom(0, 30, 500),
  rate: fc.constantFrom(0, 200_000),
  buggify: fc.boolean(),
  corruption: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
});

function engineOptions(c: { compaction: 'leveled' | 'tiered'; graceMs: number; rate: number }): Partial<EngineOptions> {
  return {
    compaction: c.compaction,
    memtableBytes: 1536,
    blockBytes: 256,
    blockCacheBytes: 4096,
    tombstoneGraceMs: c.graceMs,
    compactionStepBytes: 300,
    compactionBytesPerSec: c.rate,
    l0CompactionTrigger: 2,
    l0SlowdownTrigger: 4,
    l0StopTrigger: 6,
    l1TargetBytes: 3000,
    levelMultiplier: 4,
    targetFileBytes: 1500,
    tiered: { minMerge: 3, slowdownRuns: 8, stopRuns: 10 },
    maxManifestBytes: 2000,
  };
}

class Run {
  readonly sim: Simulator;
  node: SimNode;
  engine!: Engine;
  readonly history: WriteRecord[] = [];
  /** Writes acknowledged so far: always a prefix of history. */
  acked = 0;
  corrupted = false;
  /** Keys in the range of a quarantined table: the history length when it was quarantined. */
  private readonly lostSince = new Map<string, number>();
  private readonly seenQuarantines = new Set<number>();
  /** Incarnation counter: callbacks of a crashed engine never fire, but guard anyway. */
  private generation = 0;
  readonly log: string[] = [];
  /** Flushes and compactions over every incarnation, and crashes that hit them. */
  readonly work = { flushes: 0, compactions: 0, crashesMidFlush: 0, crashesMidCompaction: 0, crashesMidOpen: 0, quarantines: 0 };

  constructor(
    seed: number,
    private readonly options: Partial<EngineOptions>,
    buggify: boolean,
  ) {
    this.sim = new Simulator({ seed, buggify });
    this.node = this.sim.addNode('n1', { disk: { syncLatencyMs: [0.1, 3] } });
    this.open([]);
  }

  now(): number {
    return this.node.clock.wallMs();
  }

  /** Opens the engine; each budget is a crash after that many events of recovery. */
  open(budgets: number[]): void {
    for (const budget of [...budgets, Infinity]) {
      let result: { err: Error | null; engine?: Engine } | undefined;
      Engine.open(this.node.env, this.options, (err, engine) => {
        result = { err, ...(engine ? { engine } : {}) };
      });
      const limit = budget === Infinity ? 2_000_000 : budget;
      this.sim.runUntil(() => result !== undefined, { maxEvents: limit });
      if (result === undefined) {
        expect(budget, 'open never finished').not.toBe(Infinity);
        this.log.push(`crash during open after ${budget} events`);
        this.work.crashesMidOpen++;
        this.crashNode();
        continue;
      }
      if (result.err !== null) throw result.err;
      if (this.engine !== undefined) {
        const s = this.engine.stats();
        this.work.flushes += s.flushesRun;
        this.work.compactions += s.compactionsRun;
      }
      this.engine = result.engine!;
      this.generation++;
      this.outstanding = 0;
      return;
    }
  }

  private crashNode(): void {
    this.sim.crash('n1');
    this.node = this.sim.restart('n1');
  }

  write(ops: ModelOp[]): void {
    const index = this.history.length;
    const record: WriteRecord = {
      ops: ops.map((o) => ({
        key: keyName(o.k),
        ...(o.del ? {} : { value: `w${index}.${'p'.repeat(o.pad)}` }),
        ...(!o.del && o.ttl !== undefined ? { ttl: o.ttl } : {}),
      })),
      calledAt: this.now(),
      appliedBy: Infinity,
      acked: false,
    };
    this.history.push(record);
    const generation = this.generation;
    const writeOps: WriteOp[] = record.ops.map((o) =>
      o.value === undefined
        ? { kind: 'delete', key: enc(o.key) }
        : { kind: 'put', key: enc(o.key), value: enc(o.value), ...(o.ttl !== undefined ? { ttlMs: o.ttl } : {}) },
    );
    this.engine.write(writeOps, (err) => {
      if (generation !== this.generation) return;
      expect(err, `write ${index} failed`).toBeNull();
      // Acknowledgements come in issue order.
      expect(index).toBe(this.acked);
      this.acked++;
      record.acked = true;
      record.appliedBy = this.now();
    });
  }

  /** Model state after the first `n` writes. */
  stateAt(n: number): Map<string, KeyState> {
    const state = new Map<string, KeyState>();
    for (let i = 0; i < n; i++) {
      const w = this.history[i]!;
      for (const o of w.ops) {
        if (o.value === undefined) state.set(o.key, undefined);
        else if (o.ttl === undefined) state.set(o.key, { value: o.value, expMin: Infinity, expMax: Infinity });
        else state.set(o.key, { value: o.value, expMin: Math.floor(w.calledAt) + o.ttl, expMax: Math.floor(w.appliedBy) + o.ttl });
      }
    }
    return state;
  }

  /** Whether `got` is a possible read of `s` at wall time `t`. */
  static consistent(s: KeyState, got: string | undefined, t: number): boolean {
    if (s === undefined) return got === undefined;
    if (t < s.expMin) return got === s.value;
    if (t >= s.expMax) return got === undefined;
    return got === undefined || got === s.value;
  }

  /** Marks the keys of tables the engine has quarantined since the last look. */
  noteQuarantines(): void {
    if (this.engine === undefined) return;
    for (const q of this.engine.stats().quarantined) {
      if (this.seenQuarantines.has(q.fileNumber)) continue;
      expect(this.corrupted, `table ${q.fileNumber} quarantined without a bit flip`).toBe(true);
      this.seenQuarantines.add(q.fileNumber);
      this.work.quarantines++;
      const lo = dec(q.smallestKey);
      const hi = dec(q.largestKey);
      for (let k = 0; k < KEYS; k++) {
        const key = keyName(k);
        if (key >= lo && key <= hi) this.lostSince.set(key, this.history.length);
      }
      this.log.push(`quarantine ${q.file} [${lo}, ${hi}]`);
    }
  }

  /** Whether `got` is a possible read of `key` in the state of the first `n` writes at time `t`. */
  private consistentKey(key: string, state: Map<string, KeyState>, got: string | undefined, t: number, n: number): boolean {
    if (Run.consistent(state.get(key), got, t)) return true;
    const since = this.lostSince.get(key);
    if (since === undefined) return false;
    const writes = this.history.slice(0, n).map((w, i) => ({ i, o: w.ops.find((o) => o.key === key) }));
    if (writes.some(({ i, o }) => o !== undefined && i >= since)) return false; // rewritten since: strict again
    return got === undefined || writes.some(({ o }) => o !== undefined && o.value === got);
  }

  /** A read that may fail with CorruptionError only after a bit flip. */
  private read<T>(fn: () => T): T | 'corrupt' {
    this.noteQuarantines();
    try {
      return fn();
    } catch (err) {
      if (this.corrupted && err instanceof CorruptionError) return 'corrupt';
      throw err;
    } finally {
      this.noteQuarantines();
    }
  }

  checkGet(k: number, state = this.stateAt(this.acked), n = this.acked): boolean {
    const key = keyName(k);
    const got = this.read(() => this.engine.get(enc(key)));
    if (got === 'corrupt') return true;
    return this.consistentKey(key, state, got === undefined ? undefined : dec(got), this.now(), n);
  }

  checkScan(a: number, b: number, limit: number | undefined, state = this.stateAt(this.acked), n = this.acked): boolean {
    const t = this.now();
    const got = this.read(() => this.engine.scan({ start: enc(keyName(a)), end: enc(keyName(b)), ...(limit ? { limit } : {}) }));
    if (got === 'corrupt') return true;
    const keys = got.map((kv) => dec(kv.key));
    if (limit !== undefined && keys.length > limit) return false;
    for (let i = 1; i < keys.length; i++) if (keys[i - 1]! >= keys[i]!) return false;
    const returned = new Map(got.map((kv) => [dec(kv.key), dec(kv.value)]));
    const complete = limit === undefined || keys.length < limit;
    for (let k = a; k < b; k++) {
      const key = keyName(k);
      if (!complete && key > keys[keys.length - 1]!) break;
      if (!this.consistentKey(key, state, returned.get(key), t, n)) return false;
    }
    for (const key of keys) if (key < keyName(a) || key >= keyName(b)) return false;
    return true;
  }

  /**
   * Crashes the node `events` events from now, or from when a flush or
   * compaction is under way (target), so crashes land inside them.
   */
  crash(target: 'any' | 'flush' | 'compaction', events: number, reopenBudgets: number[]): void {
    if (target === 'flush') {
      this.engine.flush(() => {});
      this.sim.runUntil(() => this.engine.activity().flushing, { maxEvents: 200 });
      events %= 15;
    } else if (target === 'compaction') {
      // A flush adds a level-0 table, which is what usually starts one.
      this.engine.flush(() => {});
      this.sim.runUntil(() => this.engine.activity().compacting, { maxEvents: 600 });
      events %= 30;
    }
    this.sim.run({ maxEvents: events });
    const activity = this.engine.activity();
    if (activity.flushing) this.work.crashesMidFlush++;
    if (activity.compacting) this.work.crashesMidCompaction++;
    const crashedAt = this.now();
    this.noteQuarantines();
    this.log.push(`crash after ${events} events, ${this.history.length - this.acked} writes pending`);
    this.crashNode();
    this.open(reopenBudgets);
    // The recovered state is the state of some prefix holding every acknowledged write.
    for (const w of this.history.slice(this.acked)) w.appliedBy = crashedAt;
    let match = -1;
    for (let n = this.history.length; n >= this.acked && match < 0; n--) {
      const state = this.stateAt(n);
      let ok = true;
      for (let k = 0; k < KEYS && ok; k++) ok = this.checkGet(k, state, n);
      if (ok) ok = this.checkScan(0, KEYS, undefined, state, n);
      if (ok) match = n;
    }
    expect(match, `after the crash no prefix of ${this.acked}..${this.history.length} writes matches the engine`).toBeGreaterThanOrEqual(0);
    this.history.length = match;
    for (const w of this.history) w.acked = true;
    this.acked = match;
  }

  corrupt(pick: number, offset: number, bit: number): void {
    const tables = this.node.disk
      .list()
      .filter((n) => parseFileName(n)?.kind === 'table' && this.node.disk.durableBytes(n).length > 0);
    if (tables.length === 0) return;
    const name = tables[pick % tables.length]!;
    this.node.disk.flipBit(name, offset % this.node.disk.durableBytes(name).length, bit);
    this.corrupted = true;
    this.log.push(`flip ${name}`);
  }

  /** Flush and compactAll requests of the current incarnation not yet answered. */
  outstanding = 0;

  request(start: (cb: (err: Error | null) => void) => void, check: (err: Error | null) => void): void {
    const generation = this.generation;
    this.outstanding++;
    start((err) => {
      if (generation !== this.generation) return;
      this.outstanding--;
      check(err);
    });
  }

  /** Lets everything in flight finish; every write and request must be answered. */
  quiesce(): void {
    const done = this.sim.runUntil(() => this.acked === this.history.length && this.outstanding === 0, { maxEvents: 2_000_000 });
    expect(done, `${this.history.length - this.acked} writes, ${this.outstanding} requests never answered`).toBe(true);
  }
}

function execute(run: Run, ops: Op[]): void {
  for (const o of ops) {
    switch (o.t) {
      case 'write':
        run.write(o.ops);
        break;
      case 'get':
        expect(run.checkGet(o.k), `get ${keyName(o.k)} disagrees with the model`).toBe(true);
        break;
      case 'scan':
        expect(run.checkScan(o.a, o.b, o.limit), `scan [${o.a}, ${o.b}) limit ${o.limit} disagrees`).toBe(true);
        break;
      case 'flush':
        run.request((cb) => run.engine.flush(cb), (err) => expect(err).toBeNull());
        break;
      case 'compact':
        run.request(
          (cb) => run.engine.compactAll(cb),
          (err) => {
            if (err !== null) expect(run.corrupted && err instanceof CorruptionError, `compactAll failed: ${err.message}`).toBe(true);
          },
        );
        break;
      case 'run':
        run.sim.run({ maxEvents: o.events });
        break;
      case 'advance':
        run.sim.run({ untilMs: run.sim.nowMs() + o.ms });
        break;
      case 'crash':
        run.crash(o.target, o.events, o.reopenBudgets);
        break;
      case 'corrupt':
        run.corrupt(o.pick, o.offset, o.bit);
        break;
    }
  }
  run.quiesce();
  run.noteQuarantines();
  for (let k = 0; k < KEYS; k++) expect(run.checkGet(k), `final get ${keyName(k)}`).toBe(true);
  expect(run.checkScan(0, KEYS, undefined), 'final scan').toBe(true);
  // And once more after a clean close and reopen.
  let closed: Error | null | undefined;
  run.engine.close((err) => {
    closed = err;
  });
  run.noteQuarantines();
  run.sim.runUntil(() => closed !== undefined, { maxEvents: 1_000_000 });
  expect(closed).toBeNull();
  expect(run.node.disk.openHandleCount(), 'file handles leaked').toBe(0);
  run.open([]);
  for (let k = 0; k < KEYS; k++) expect(run.checkGet(k), `get ${keyName(k)} after reopen`).toBe(true);
}

describe('engine against a Map model', () => {
  it('random operation sequences with crashes, torn tails and bit flips', () => {
    const total = { crashes: 0, flushes: 0, compactions: 0, crashesMidFlush: 0, crashesMidCompaction: 0, crashesMidOpen: 0, quarantines: 0 };
    fc.assert(
      fc.property(config, fc.array(op, { minLength: 20, maxLength: 120 }), (c, ops) => {
        const run = new Run(c.seed, engineOptions(c), c.buggify);
        const filtered = c.corruption ? ops : ops.filter((o) => o.t !== 'corrupt');
        execute(run, filtered);
        total.crashes += filtered.filter((o) => o.t === 'crash').length;
        for (const [k, v] of Object.entries(run.work)) total[k as keyof typeof total] += v;
      }),
      { numRuns: Number(process.env.MODEL_RUNS ?? 500) },
    );
    // The runs must actually exercise what they claim to (typical counts per
    // 500 runs: 490 crashes, 1100 flushes, 360 compactions, 85 crashes inside
    // a flush, 30 inside a compaction, 150 inside a recovery).
    expect(total.crashes).toBeGreaterThan(300);
    expect(total.flushes).toBeGreaterThan(600);
    expect(total.compactions).toBeGreaterThan(150);
    expect(total.crashesMidFlush).toBeGreaterThan(30);
    expect(total.crashesMidCompaction).toBeGreaterThan(10);
    expect(total.crashesMidOpen).toBeGreaterThan(80);
    // Quarantines: typically 6-30 per 500 runs (a flipped bit in a block the
    // cache already holds goes unseen).
    expect(total.quarantines).toBeGreaterThan(2);
  });
});
