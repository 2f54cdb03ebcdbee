// The cluster benchmark's client side: several load generator processes
// (load_worker.ts) driven as one. A spec's connections and rate are split
// evenly between them and their results merged.

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assert } from '../../io/assert.ts';
import { LatencySamples } from './latency_histogram.ts';
import type { LoadResult, LoadSpec } from './load_worker.ts';

export interface MergedLoadResult {
  completed: number;
  errors: number;
  unsent: number;
  opsPerSec: number;
  latency: LatencySamples;
}

type Reply = { type: 'result'; result: LoadResult } | { type: 'error'; message: string } | { type: 'ready' };

export class LoadPool {
  private constructor(private readonly workers: ChildProcess[]) {}

  static async start(processes: number): Promise<LoadPool> {
    assert(processes >= 1, 'at least one load process');
    const entry = fileURLToPath(new URL('./load_worker.ts', import.meta.url));
    const workers = await Promise.all(
      Array.from({ length: processes }, () => {
        const child = fork(entry, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, RINGKV_LOAD_WORKER: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        return new Promise<ChildProcess>((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', (code) => reject(new Error(`load process exited with ${code} before it was ready`)));
          child.once('message', (m: Reply) => (m.type === 'ready' ? resolve(child) : reject(new Error(`load process said ${m.type} first`))));
        });
      }),
    );
    for (const w of workers) w.removeAllListeners('exit');
    return new LoadPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** The load processes' ids (their CPU time is the generator's cost). */
  get pids(): number[] {
    return this.workers.map((w) => w.pid!);
  }

  /** Runs `spec` split over the processes (connections and rate divided; fill keys interleaved). */
  async run(spec: Omit<LoadSpec, 'stride' | 'offset'>): Promise<MergedLoadResult> {
    const n = Math.min(this.workers.length, spec.connections);
    const results = await Promise.all(
      this.workers.slice(0, n).map((w, i) => {
        const part: LoadSpec = {
          ...spec,
          connections: Math.floor(spec.connections / n) + (i < spec.connections % n ? 1 : 0),
          ratePerSec: spec.ratePerSec / n,
          stride: n,
          offset: i,
        };
        return new Promise<LoadResult>((resolve, reject) => {
          const onExit = (code: number | null) => reject(new Error(`load process exited with ${code}`));
          w.once('exit', onExit);
          w.once('message', (m: Reply) => {
            w.off('exit', onExit);
            if (m.type === 'result') resolve(m.result);
            else reject(new Error(m.type === 'error' ? m.message : `unexpected ${m.type}`));
          });
          w.send({ type: 'run', spec: part });
        });
      }),
    );
    const latency = new LatencySamples();
    let completed = 0;
    let errors = 0;
    let unsent = 0;
    let elapsedMs = 0;
    for (const r of results) {
      completed += r.completed;
      errors += r.errors;
      unsent += r.unsent;
      elapsedMs = Math.max(elapsedMs, r.elapsedMs);
      for (const us of r.latenciesUs) latency.record(us);
    }
    return { completed, errors, unsent, opsPerSec: elapsedMs > 0 ? (completed / elapsedMs) * 1000 : 0, latency };
  }

  stop(): void {
    for (const w of this.workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  }
}
