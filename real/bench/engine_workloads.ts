// db_bench's workloads, driven against a BenchStore. Keys are 16 bytes
// ("%016d" of an even number for keys the fills write, odd for keys that are
// never written, so misses fall between real keys and only a bloom filter or
// a block search can reject them). Values are half random bytes, half zeros,
// like db_bench's compressible values. Every choice of key comes from a
// seeded generator, made before the clock starts, so both stores see exactly
// the same sequence of operations.

import { assert } from '../../io/assert.ts';
import { NodeRng } from '../node_rng.ts';
import type { BenchStore } from './bench_stores.ts';

export const KEY_BYTES = 16;

export type WorkloadName =
  | 'fillseq'
  | 'fillrandom'
  | 'overwrite'
  | 'readrandom'
  | 'readrandom-sync'
  | 'readmissing'
  | 'readseq'
  | 'readwhilewriting'
  | 'deleterandom';

export interface BenchKeys {
  /** present[k] is the k-th key a fill writes. */
  present: Uint8Array[];
  /** missing[k] sorts just after present[k] and is never written. */
  missing: Uint8Array[];
}

export function makeKeys(count: number): BenchKeys {
  const present: Uint8Array[] = [];
  const missing: Uint8Array[] = [];
  const backing = new Uint8Array(count * 2 * KEY_BYTES);
  const encoder = new TextEncoder();
  for (let k = 0; k < count; k++) {
    const p = backing.subarray(2 * k * KEY_BYTES, (2 * k + 1) * KEY_BYTES);
    const m = backing.subarray((2 * k + 1) * KEY_BYTES, (2 * k + 2) * KEY_BYTES);
    encoder.encodeInto(String(2 * k).padStart(KEY_BYTES, '0'), p);
    encoder.encodeInto(String(2 * k + 1).padStart(KEY_BYTES, '0'), m);
    present.push(p);
    missing.push(m);
  }
  return { present, missing };
}

/** `count` distinct values of `size` bytes: the first half random, the rest zeros. */
export function makeValues(size: number, count: number, seed: number): Uint8Array[] {
  const rng = new NodeRng([seed >>> 0, 0x9e3779b9, size, count]);
  const values: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const v = new Uint8Array(size);
    for (let j = 0; j < size >> 1; j++) v[j] = rng.nextUint32() & 0xff;
    values.push(v);
  }
  return values;
}

export interface WorkloadPlan {
  /** Keys [0, keySpace) of `keys.present` are the ones the fills write. */
  keySpace: number;
  ops: number;
  inFlight: number;
  keys: BenchKeys;
  values: Uint8Array[];
  seed: number;
}

export interface WorkloadResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  /**
   * Process CPU time (every thread: classic-level's compaction thread, the
   * libuv pool) per op in the timed window, in microseconds: the work an op
   * cost, which a loaded machine inflates far less than it does wall time.
   */
  cpuMicrosPerOp: number;
  /** Reads that found a value of the expected size. */
  found: number;
  /** Reads that returned a value of the wrong size (a broken store). */
  wrong: number;
}

/** Wall and process CPU time since a start(). */
interface Elapsed {
  seconds: number;
  cpuSeconds: number;
}

function startClock(): () => Elapsed {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { seconds: Number(process.hrtime.bigint() - wall) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
  };
}

/** Runs `op(0..count-1)`, at most `inFlight` awaiting at once; returns the time taken. */
export async function drive(count: number, inFlight: number, op: (i: number) => unknown): Promise<Elapsed> {
  assert(inFlight >= 1, `inFlight ${inFlight}`);
  let next = 0;
  const worker = async () => {
    while (next < count) await op(next++);
  };
  const stop = startClock();
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(inFlight, count); w++) workers.push(worker());
  await Promise.all(workers);
  return stop();
}

function shuffled(n: number, rng: NodeRng): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

function uniform(count: number, n: number, rng: NodeRng): Uint32Array {
  const a = new Uint32Array(count);
  for (let i = 0; i < count; i++) a[i] = rng.int(n);
  return a;
}

export async function runWorkload(store: BenchStore, name: WorkloadName, plan: WorkloadPlan): Promise<WorkloadResult> {
  const { keySpace, ops, inFlight, values } = plan;
  const present = plan.keys.present;
  assert(keySpace <= present.length, `key space ${keySpace} > ${present.length} keys`);
  const valueSize = values[0]!.length;
  const rng = new NodeRng([plan.seed >>> 0, keySpace, ops, name.length]);
  let found = 0;
  let wrong = 0;
  const check = (v: Uint8Array | undefined) => {
    if (v === undefined) return;
    if (v.length === valueSize) found++;
    else wrong++;
  };
  const value = (i: number) => values[i % values.length]!;
  let time: Elapsed;
  let done = ops;
  switch (name) {
    case 'fillseq':
      assert(ops <= keySpace, 'fillseq writes each key once');
      time = await drive(ops, inFlight, (i) => store.put(present[i]!, value(i)));
      break;
    case 'fillrandom': {
      // Every key once, in random order: reads afterwards all hit.
      assert(ops <= keySpace, 'fillrandom writes each key once');
      const order = shuffled(keySpace, rng);
      time = await drive(ops, inFlight, (i) => store.put(present[order[i]!]!, value(i)));
      break;
    }
    case 'overwrite': {
      const order = uniform(ops, keySpace, rng);
      time = await drive(ops, inFlight, (i) => store.put(present[order[i]!]!, value(i + 7)));
      break;
    }
    case 'readrandom': {
      const order = uniform(ops, keySpace, rng);
      time = await drive(ops, inFlight, async (i) => check(await store.get(present[order[i]!]!)));
      break;
    }
    case 'readrandom-sync': {
      assert(inFlight === 1, 'a synchronous read has nothing in flight');
      const order = uniform(ops, keySpace, rng);
      const stop = startClock();
      for (let i = 0; i < ops; i++) check(store.getSync(present[order[i]!]!));
      time = stop();
      break;
    }
    case 'readmissing': {
      const order = uniform(ops, keySpace, rng);
      const missing = plan.keys.missing;
      time = await drive(ops, inFlight, async (i) => check(await store.get(missing[order[i]!]!)));
      break;
    }
    case 'readseq': {
      const stop = startClock();
      done = await store.scanAll();
      time = stop();
      found = done;
      break;
    }
    case 'readwhilewriting': {
      // 90% reads, 10% overwrites, interleaved.
      const order = uniform(ops, keySpace, rng);
      const isWrite = new Uint8Array(ops).map(() => (rng.chance(0.1) ? 1 : 0));
      time = await drive(ops, inFlight, async (i) => {
        const key = present[order[i]!]!;
        if (isWrite[i]) await store.put(key, value(i + 13));
        else check(await store.get(key));
      });
      break;
    }
    case 'deleterandom': {
      const order = uniform(ops, keySpace, rng);
      time = await drive(ops, inFlight, (i) => store.del(present[order[i]!]!));
      break;
    }
  }
  const { seconds, cpuSeconds } = time;
  assert(seconds > 0, `${name} took no measurable time`);
  return { ops: done, seconds, opsPerSec: done / seconds, cpuMicrosPerOp: (cpuSeconds * 1e6) / done, found, wrong };
}
