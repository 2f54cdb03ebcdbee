// ringkv's Engine as a BenchStore, on a real data directory.

import { Engine, type EngineOptions, type EngineStats, type WriteOp } from '../../core/storage/engine.ts';
import { realStorageEnv, type RealStorageEnv } from '../storage_env.ts';
import type { BenchStore, BenchStoreFactory } from './bench_stores.ts';

export class RingkvStore implements BenchStore {
  readonly name = 'ringkv';

  constructor(
    readonly engine: Engine,
    readonly env: RealStorageEnv,
  ) {}

  // An unsynced write with nothing ahead of it is acknowledged within the
  // call (Engine.tryWriteNow), as LevelDB's Put returns; otherwise, and for
  // every durable write, the promise settles from the engine's callback.
  put(key: Uint8Array, value: Uint8Array): Promise<void> | void {
    return this.submit([{ kind: 'put', key, value }]);
  }

  del(key: Uint8Array): Promise<void> | void {
    return this.submit([{ kind: 'delete', key }]);
  }

  private submit(ops: WriteOp[]): Promise<void> | void {
    let settle: ((err: Error | null) => void) | undefined;
    // The engine never calls back before tryWriteNow returns, so settle is set by then.
    if (this.engine.tryWriteNow(ops, (err) => settle!(err))) return;
    return new Promise((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.engine.get(key);
  }

  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.engine.get(key);
  }

  async scanAll(): Promise<number> {
    const it = this.engine.iterator();
    let count = 0;
    try {
      while (it.next() !== undefined) count++;
    } finally {
      it.close();
    }
    return count;
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.engine.flush((err) => (err ? reject(err) : resolve())));
  }

  compactAll(): Promise<void> {
    return new Promise((resolve, reject) => this.engine.compactAll((err) => (err ? reject(err) : resolve())));
  }

  stats(): EngineStats {
    return this.engine.stats();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.engine.close((err) => (err ? reject(err) : resolve())));
    this.env.timers.cancelAll();
    this.env.disk.close();
  }
}

export function openRingkv(dir: string, options: Partial<EngineOptions>): Promise<RingkvStore> {
  const env = realStorageEnv(dir);
  return new Promise((resolve, reject) =>
    Engine.open(env, options, (err, engine) => (err || !engine ? reject(err ?? new Error('no engine')) : resolve(new RingkvStore(engine, env)))),
  );
}

/** The engine with `options` over its defaults; `durable` is `syncWrites` (group commit). */
export function ringkvFactory(options: Partial<EngineOptions> = {}): BenchStoreFactory {
  return { name: 'ringkv', open: (dir, durable) => openRingkv(dir, { ...options, syncWrites: durable }) };
}
