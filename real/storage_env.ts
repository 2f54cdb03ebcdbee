// The StorageEnv (io/env.ts) a storage engine runs on in a real process: one
// data directory, the machine's clocks and timers, and fault injection off.

import { buggifyOff } from '../io/buggify.ts';
import type { StorageEnv } from '../io/env.ts';
import { FsDisk } from './fs_disk.ts';
import { NodeRng } from './node_rng.ts';
import { NodeTimers, type NodeTimersOptions } from './node_timers.ts';
import { WallClock } from './wall_clock.ts';

export interface RealStorageEnv extends StorageEnv {
  readonly disk: FsDisk;
  readonly timers: NodeTimers;
  readonly clock: WallClock;
  readonly rng: NodeRng;
}

/** A StorageEnv over `dataDir` (created if missing). */
export function realStorageEnv(dataDir: string, options: { timers?: NodeTimersOptions } = {}): RealStorageEnv {
  return {
    disk: new FsDisk(dataDir),
    clock: new WallClock(),
    timers: new NodeTimers(options.timers),
    rng: new NodeRng(),
    buggify: buggifyOff,
  };
}
