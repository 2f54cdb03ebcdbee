// Settings of a node's anti-entropy service (anti_entropy_service.ts).
//
// The tree shape must be the same on every node of a cluster: two replicas
// compare trees node by node, and an exchange between different shapes is
// aborted. The defaults suit ranges of up to ~100,000 keys (4,096 leaf
// segments, ~25 keys a segment); larger ranges want more leaves
// (merkle_tree.ts leafBitsFor).

import { isValidShape } from './merkle_tree.ts';

export interface AntiEntropyOptions {
  /** Whether scheduled exchanges run; trees are kept and operator repairs work either way. */
  enabled: boolean;
  /** Pause between scheduled exchanges (each with one replica of one range). */
  intervalMs: number;
  /** Bytes per second an exchange and its streaming may use, on average. */
  bytesPerSec: number;
  leafBits: number;
  fanoutBits: number;
  /** Records read per step of a tree build. */
  buildKeysPerStep: number;
  /** Pause between build steps, so reads and writes are served between them. */
  buildStepMs: number;
  /** Most keys listed in one merkle_keys message. */
  maxKeysPerMessage: number;
  /** Differing keys fetched or pushed at once while streaming. */
  streamInflight: number;
}

export const DEFAULT_ANTI_ENTROPY_OPTIONS: Readonly<AntiEntropyOptions> = Object.freeze({
  enabled: true,
  intervalMs: 10_000,
  bytesPerSec: 1 << 20,
  leafBits: 12,
  fanoutBits: 4,
  buildKeysPerStep: 256,
  buildStepMs: 1,
  maxKeysPerMessage: 4096,
  streamInflight: 4,
});

export function antiEntropyOptions(overrides: Partial<AntiEntropyOptions> = {}): AntiEntropyOptions {
  const o = { ...DEFAULT_ANTI_ENTROPY_OPTIONS, ...overrides };
  const positive = ['intervalMs', 'bytesPerSec', 'buildKeysPerStep', 'maxKeysPerMessage', 'streamInflight'] as const;
  for (const name of positive) {
    if (!(Number.isFinite(o[name]) && o[name] > 0)) throw new Error(`antiEntropy.${name} must be > 0, got ${String(o[name])}`);
  }
  if (!(Number.isFinite(o.buildStepMs) && o.buildStepMs >= 0)) throw new Error(`antiEntropy.buildStepMs must be >= 0`);
  if (!isValidShape({ leafBits: o.leafBits, fanoutBits: o.fanoutBits })) throw new Error(`antiEntropy tree shape ${o.leafBits}/${o.fanoutBits} is not valid`);
  return o;
}
