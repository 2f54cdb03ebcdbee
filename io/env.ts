// Everything a state machine in core/ may know about the world. The simulator
// builds one per simulated node; the real runtime builds one per process.

import type { Buggify } from './buggify.ts';
import type { Clock } from './clock.ts';
import type { Disk } from './disk.ts';
import type { Network, NodeId } from './network.ts';
import type { Rng } from './rng.ts';
import type { Timers } from './timers.ts';

export interface Env {
  readonly nodeId: NodeId;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly disk: Disk;
  readonly net: Network;
  readonly rng: Rng;
  readonly buggify: Buggify;
}

/** The subset a storage engine needs: no network. */
export type StorageEnv = Pick<Env, 'clock' | 'timers' | 'disk' | 'rng' | 'buggify'>;
