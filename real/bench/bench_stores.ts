// The two stores the engine benchmark drives through one small interface, so
// each workload runs the same code against both: ringkv's Engine and
// classic-level (LevelDB). Each op returns a promise or a plain value; the
// harness awaits either, so both pay the same per-op await.

import { ClassicLevel } from 'classic-level';

export interface BenchStore {
  readonly name: string;
  /** A plain return: the write was acknowledged before the call returned. */
  put(key: Uint8Array, value: Uint8Array): Promise<void> | void;
  del(key: Uint8Array): Promise<void> | void;
  get(key: Uint8Array): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** The store's fastest synchronous lookup, where it has one. */
  getSync(key: Uint8Array): Uint8Array | undefined;
  /** Reads every live entry in key order; resolves to how many it saw. */
  scanAll(): Promise<number>;
  close(): Promise<void>;
}

export interface BenchStoreFactory {
  readonly name: string;
  /** Opens a fresh store in an empty directory; `durable` makes each write wait for fsync. */
  open(dir: string, durable: boolean): Promise<BenchStore>;
}

const SCAN_BATCH = 1000;

class ClassicLevelStore implements BenchStore {
  readonly name = 'classic-level';
  private readonly writeOptions: { sync: boolean };

  constructor(
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    durable: boolean,
  ) {
    this.writeOptions = { sync: durable };
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.db.put(key, value, this.writeOptions);
  }

  del(key: Uint8Array): Promise<void> {
    return this.db.del(key, this.writeOptions);
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.db.getSync(key);
  }

  async scanAll(): Promise<number> {
    // nextv is classic-level's fastest cursor: one native call per batch.
    const it = this.db.iterator();
    let count = 0;
    try {
      for (;;) {
        const batch = await it.nextv(SCAN_BATCH);
        if (batch.length === 0) break;
        count += batch.length;
      }
    } finally {
      await it.close();
    }
    return count;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** LevelDB through classic-level with its default options (4 MiB write buffer, 8 MiB cache, snappy). */
export const classicLevelFactory: BenchStoreFactory = {
  name: 'classic-level',
  async open(dir, durable) {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return new ClassicLevelStore(db, durable);
  },
};
