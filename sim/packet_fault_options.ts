// What the simulated network does to frames, in the spirit of TigerBeetle's
// packet simulator: a seeded one-way delay, loss, replay (duplication),
// forced reordering, a bounded number of frames in flight per path, clogged
// paths and automatic partitions. The defaults are a healthy LAN: random
// delay (so frames still reorder), no faults.

import { assert } from '../io/assert.ts';
import type { SimRng } from './sim_rng.ts';

export type PartitionMode =
  /** No automatic partitions (manual ones still work). */
  | 'none'
  /** One side gets k nodes, k uniform in [1, n-1]. */
  | 'uniformSize'
  /** Every node picks its side by a coin (re-drawn until both sides are non-empty). */
  | 'uniformPartition'
  /** One node against the rest. */
  | 'isolateSingle';

/** A symmetric partition blocks both directions; an asymmetric one blocks only frames from one side to the other. */
export type PartitionSymmetry = 'symmetric' | 'asymmetric';

/** Faults that may differ per directed link (setLinkFaults overrides them for one link). */
export interface LinkFaultOptions {
  /** The delay is min + Exp(mean - min), capped at max. */
  oneWayDelayMinMs: number;
  oneWayDelayMeanMs: number;
  oneWayDelayMaxMs: number;
  packetLossProbability: number;
  /** A frame is also delivered a second time, with its own delay and its own loss draw. */
  packetReplayProbability: number;
  /** A frame is held back by an extra uniform [0, oneWayDelayMaxMs] so later frames overtake it. */
  packetReorderProbability: number;
  /** Frames in flight on one directed path; a frame sent beyond this is dropped. */
  pathMaximumCapacity: number;
}

export interface PacketFaultOptions extends LinkFaultOptions {
  /** Deliver each directed link's frames in send order (TCP-like); excludes forced reordering. */
  fifoPerLink: boolean;
  partitionMode: PartitionMode;
  partitionSymmetry: PartitionSymmetry;
  /** Per fault tick, while no automatic partition is active. */
  partitionProbability: number;
  /** Per fault tick, while an automatic partition is active. */
  unpartitionProbability: number;
  /** An automatic partition lasts at least this long. */
  partitionStabilityMs: number;
  /** After an automatic partition heals, the next one waits at least this long. */
  unpartitionStabilityMs: number;
  /** Per fault tick and directed path: the path stops delivering (frames wait, none are lost) for Exp(pathClogDurationMeanMs). */
  pathClogProbability: number;
  pathClogDurationMeanMs: number;
  /** Period of the automatic fault decisions (partitions, clogs); the tick runs only while one is enabled. */
  faultTickMs: number;
}

export const DEFAULT_PACKET_FAULT_OPTIONS: Readonly<PacketFaultOptions> = Object.freeze({
  oneWayDelayMinMs: 0.5,
  oneWayDelayMeanMs: 2,
  oneWayDelayMaxMs: 50,
  packetLossProbability: 0,
  packetReplayProbability: 0,
  packetReorderProbability: 0,
  pathMaximumCapacity: Number.POSITIVE_INFINITY,
  fifoPerLink: false,
  partitionMode: 'none',
  partitionSymmetry: 'symmetric',
  partitionProbability: 0,
  unpartitionProbability: 0,
  partitionStabilityMs: 0,
  unpartitionStabilityMs: 0,
  pathClogProbability: 0,
  pathClogDurationMeanMs: 100,
  faultTickMs: 10,
});

const PARTITION_MODES: readonly PartitionMode[] = ['none', 'uniformSize', 'uniformPartition', 'isolateSingle'];

function checkProbability(name: string, p: number): void {
  assert(Number.isFinite(p) && p >= 0 && p <= 1, `${name} ${p} outside [0, 1]`);
}

function checkNonNegative(name: string, ms: number): void {
  assert(Number.isFinite(ms) && ms >= 0, `${name} must be finite and >= 0, got ${ms}`);
}

export function validateLinkFaults(o: LinkFaultOptions): void {
  checkNonNegative('oneWayDelayMinMs', o.oneWayDelayMinMs);
  checkNonNegative('oneWayDelayMeanMs', o.oneWayDelayMeanMs);
  checkNonNegative('oneWayDelayMaxMs', o.oneWayDelayMaxMs);
  assert(
    o.oneWayDelayMinMs <= o.oneWayDelayMeanMs && o.oneWayDelayMeanMs <= o.oneWayDelayMaxMs,
    `one-way delay needs min <= mean <= max, got ${o.oneWayDelayMinMs} / ${o.oneWayDelayMeanMs} / ${o.oneWayDelayMaxMs}`,
  );
  checkProbability('packetLossProbability', o.packetLossProbability);
  checkProbability('packetReplayProbability', o.packetReplayProbability);
  checkProbability('packetReorderProbability', o.packetReorderProbability);
  assert(
    o.pathMaximumCapacity === Number.POSITIVE_INFINITY || (Number.isSafeInteger(o.pathMaximumCapacity) && o.pathMaximumCapacity >= 1),
    `pathMaximumCapacity must be a positive integer or Infinity, got ${o.pathMaximumCapacity}`,
  );
}

export function validatePacketFaultOptions(o: PacketFaultOptions): void {
  validateLinkFaults(o);
  assert(PARTITION_MODES.includes(o.partitionMode), `unknown partitionMode ${String(o.partitionMode)}`);
  assert(o.partitionSymmetry === 'symmetric' || o.partitionSymmetry === 'asymmetric', `unknown partitionSymmetry ${String(o.partitionSymmetry)}`);
  checkProbability('partitionProbability', o.partitionProbability);
  checkProbability('unpartitionProbability', o.unpartitionProbability);
  checkNonNegative('partitionStabilityMs', o.partitionStabilityMs);
  checkNonNegative('unpartitionStabilityMs', o.unpartitionStabilityMs);
  checkProbability('pathClogProbability', o.pathClogProbability);
  checkNonNegative('pathClogDurationMeanMs', o.pathClogDurationMeanMs);
  assert(Number.isFinite(o.faultTickMs) && o.faultTickMs > 0, `faultTickMs must be > 0, got ${o.faultTickMs}`);
  assert(!(o.fifoPerLink && o.packetReorderProbability > 0), 'fifoPerLink excludes packetReorderProbability > 0');
}

/** Whether the periodic fault tick has anything to decide. */
export function hasAutomaticFaults(o: PacketFaultOptions): boolean {
  return o.partitionMode !== 'none' || o.pathClogProbability > 0;
}

/**
 * The same network with every fault off, for a liveness phase: delays, FIFO
 * and path capacity stay (they are properties of the network, not faults).
 */
export function quiescedOptions(o: PacketFaultOptions): PacketFaultOptions {
  return {
    ...o,
    packetLossProbability: 0,
    packetReplayProbability: 0,
    packetReorderProbability: 0,
    partitionMode: 'none',
    partitionProbability: 0,
    unpartitionProbability: 0,
    pathClogProbability: 0,
  };
}

/** min + Exp(mean - min), capped at max. */
export function drawOneWayDelayMs(rng: SimRng, o: LinkFaultOptions): number {
  const delay = o.oneWayDelayMinMs + rng.exponential(o.oneWayDelayMeanMs - o.oneWayDelayMinMs);
  return Math.min(delay, o.oneWayDelayMaxMs);
}

/**
 * Options drawn at random for swarm testing (each seed explores a different
 * mix of faults, as TigerBeetle's simulator does): some seeds lose a lot,
 * some partition often, some do neither.
 */
export function randomPacketFaultOptions(rng: SimRng): PacketFaultOptions {
  const min = rng.between(0, 2);
  const mean = min + rng.between(0, 10);
  const fifoPerLink = rng.chance(0.25);
  const o: PacketFaultOptions = {
    oneWayDelayMinMs: min,
    oneWayDelayMeanMs: mean,
    oneWayDelayMaxMs: mean + rng.between(0, 100),
    packetLossProbability: rng.chance(0.5) ? rng.between(0, 0.2) : 0,
    packetReplayProbability: rng.chance(0.5) ? rng.between(0, 0.1) : 0,
    packetReorderProbability: !fifoPerLink && rng.chance(0.5) ? rng.between(0, 0.1) : 0,
    pathMaximumCapacity: rng.chance(0.3) ? rng.intBetween(4, 256) : Number.POSITIVE_INFINITY,
    fifoPerLink,
    partitionMode: rng.pick(PARTITION_MODES),
    partitionSymmetry: rng.chance(0.7) ? 'symmetric' : 'asymmetric',
    partitionProbability: rng.between(0, 0.02),
    unpartitionProbability: rng.between(0.001, 0.05),
    partitionStabilityMs: rng.between(0, 500),
    unpartitionStabilityMs: rng.between(0, 500),
    pathClogProbability: rng.chance(0.3) ? rng.between(0, 0.001) : 0,
    pathClogDurationMeanMs: rng.between(10, 500),
    faultTickMs: 10,
  };
  validatePacketFaultOptions(o);
  return o;
}
