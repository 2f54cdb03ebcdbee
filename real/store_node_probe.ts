// What the admin API and metrics read from a running StoreNode beyond its
// public contract: the storage engine's statistics and activity. StoreNode
// keeps its engine private, so this reaches it by name and checks its shape
// at run time; a node without one reports null instead of failing.

import type { StoreNode } from '../core/node.ts';
import type { EngineStats } from '../core/storage/engine_options.ts';

export interface EngineActivity {
  flushing: boolean;
  compacting: boolean;
  queuedWrites: number;
  unacknowledgedWrites: number;
}

interface EngineLike {
  stats(): EngineStats;
  activity(): EngineActivity;
}

function engineOf(node: StoreNode): EngineLike | null {
  const engine = (node as unknown as { engine?: Partial<EngineLike> }).engine;
  return engine !== undefined && typeof engine.stats === 'function' && typeof engine.activity === 'function' ? (engine as EngineLike) : null;
}

export function engineStats(node: StoreNode): EngineStats | null {
  return engineOf(node)?.stats() ?? null;
}

export function engineActivity(node: StoreNode): EngineActivity | null {
  return engineOf(node)?.activity() ?? null;
}
