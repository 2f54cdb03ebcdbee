// A load generator process of the cluster benchmark (cluster_bench.ts forks
// several, so the client side is not limited to one core). It receives one
// LoadSpec at a time over IPC, runs it and answers with a LoadResult.
//
//   closed  `connections` connections each send their next request as soon
//           as the previous one is answered: the throughput a concurrency
//           level reaches.
//   open    requests are due at a fixed rate regardless of answers; a due
//           request takes an idle connection or waits for one. Its latency
//           counts from when it fell due (as wrk2 does, so a slow server is
//           not excused by sending less), measured at the 1 ms tick that
//           finds it due.
//   fill    puts keys 0..keys-1 once each, over `connections` connections.

import { performance } from 'node:perf_hooks';
import { type LoadConnection, type LoadOp, type LoadTarget, openConnection } from './load_connection.ts';

export interface LoadSpec {
  mode: 'closed' | 'open' | 'fill';
  targets: LoadTarget[];
  connections: number;
  /** open: requests per second from this process. */
  ratePerSec: number;
  durationMs: number;
  /** Requests completing before this (from the start) are not counted. */
  warmupMs: number;
  /** Fraction of requests that are puts (the rest are gets). */
  putFraction: number;
  keys: number;
  /** fill: this process's keys are those with index % stride === offset. */
  stride: number;
  offset: number;
  valueBytes: number;
}

export interface LoadResult {
  completed: number;
  errors: number;
  /** Measured window in ms (after warm-up). */
  elapsedMs: number;
  /** Latency of each counted request, microseconds. */
  latenciesUs: number[];
  /** open: requests that fell due but were never sent before the end. */
  unsent: number;
}

function keyName(i: number): string {
  return `k${String(i).padStart(8, '0')}`;
}

function randomValue(bytes: number): Uint8Array {
  const v = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) v[i] = 97 + Math.floor(Math.random() * 26);
  return v;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const conns: LoadConnection[] = [];
  for (let i = 0; i < spec.connections; i++) conns.push(await openConnection(spec.targets[i % spec.targets.length]!));
  const value = randomValue(spec.valueBytes);
  const pickOp = (): LoadOp => (Math.random() < spec.putFraction ? 'put' : 'get');
  const pickKey = (): string => keyName(Math.floor(Math.random() * spec.keys));
  const latencies: number[] = [];
  let completed = 0;
  let errors = 0;
  const t0 = performance.now();
  const countFrom = t0 + spec.warmupMs;
  const deadline = t0 + spec.durationMs;
  const record = (started: number, ok: boolean): void => {
    const now = performance.now();
    if (now < countFrom || started < countFrom) return;
    if (ok) {
      completed++;
      latencies.push((now - started) * 1000);
    } else {
      errors++;
    }
  };

  try {
    if (spec.mode === 'fill') {
      let next = spec.offset;
      await Promise.all(
        conns.map(
          (c) =>
            new Promise<void>((resolve) => {
              const step = (): void => {
                if (next >= spec.keys || c.broken) return resolve();
                const started = performance.now();
                const key = keyName(next);
                next += spec.stride;
                c.send('put', key, value, (ok) => {
                  record(started, ok);
                  step();
                });
              };
              step();
            }),
        ),
      );
      return { completed, errors, elapsedMs: performance.now() - countFrom, latenciesUs: latencies, unsent: 0 };
    }

    if (spec.mode === 'closed') {
      await Promise.all(
        conns.map(
          (c) =>
            new Promise<void>((resolve) => {
              const step = (): void => {
                if (performance.now() >= deadline || c.broken) return resolve();
                const started = performance.now();
                c.send(pickOp(), pickKey(), value, (ok) => {
                  record(started, ok);
                  step();
                });
              };
              step();
            }),
        ),
      );
      return { completed, errors, elapsedMs: spec.durationMs - spec.warmupMs, latenciesUs: latencies, unsent: 0 };
    }

    // open loop
    const idle = [...conns];
    const waiting: number[] = [];
    let issued = 0;
    let outstanding = 0;
    const dispatch = (c: LoadConnection, dueAt: number): void => {
      outstanding++;
      c.send(pickOp(), pickKey(), value, (ok) => {
        outstanding--;
        record(dueAt, ok);
        const queued = waiting.shift();
        if (queued !== undefined) dispatch(c, queued);
        else idle.push(c);
      });
    };
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        const due = Math.floor(((Math.min(now, deadline) - t0) * spec.ratePerSec) / 1000);
        while (issued < due) {
          issued++;
          const c = idle.pop();
          if (c !== undefined) dispatch(c, now);
          else waiting.push(now);
        }
        if (now < deadline) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    const unsent = waiting.length;
    waiting.length = 0;
    const drainUntil = performance.now() + 5000;
    while (outstanding > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
    return { completed, errors, elapsedMs: spec.durationMs - spec.warmupMs, latenciesUs: latencies, unsent };
  } finally {
    for (const c of conns) c.close();
  }
}

// As a forked child: run specs as they arrive until the parent disconnects.
if (process.send !== undefined && process.env.RINGKV_LOAD_WORKER === '1') {
  process.on('message', (m: { type: string; spec: LoadSpec }) => {
    if (m.type !== 'run') return;
    runLoad(m.spec).then(
      (result) => process.send!({ type: 'result', result }),
      (err: Error) => process.send!({ type: 'error', message: err.message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready' });
}
