// A small, busy simulated world for determinism checks (the same seed must
// give the same trace hash, in one process or two): three nodes whose timers
// write, sync and read their disks at random, skewed and drifting clocks, and
// world events that crash and restart nodes.

import type { File } from '../io/disk.ts';
import type { Seed } from './sim_rng.ts';
import { type SimNode, Simulator } from './simulator.ts';

export interface SmallWorldResult {
  hash: string;
  events: number;
  simulatedMs: number;
  crashes: number;
}

/** The workload one incarnation of a node runs until it crashes. */
function startWriter(sim: Simulator, node: SimNode): void {
  const { env, rng } = node;
  const log: File = env.disk.exists('log') ? env.disk.open('log') : env.disk.create('log');
  if (!env.disk.exists('log.synced')) env.disk.syncDir(() => {});
  const step = (): void => {
    const n = 1 + env.rng.int(900);
    const data = new Uint8Array(n);
    // Seeded bytes from one draw (xorshift32): a draw per byte made the bytes,
    // not the simulator, half of this world's cost.
    let x = 1 + env.rng.int(0xffff_ffff);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      data[i] = x & 0xff;
    }
    log.append(data);
    if (env.rng.chance(0.3)) log.sync(() => sim.trace(`${env.nodeId} synced ${log.size()} at ${env.clock.wallMs()}`));
    if (log.size() > 0) log.pread(env.rng.int(log.size()), 64);
    if (env.rng.chance(0.05)) {
      env.disk.create('log.synced').close();
      env.disk.syncDir(() => {});
    }
    env.timers.setTimer(rng.exponential(20), step);
  };
  env.timers.setTimer(env.rng.int(10), step);
}

export function runSmallWorld(seed: Seed, untilMs = 3_000): SmallWorldResult {
  const sim = new Simulator({ seed });
  const ids = ['n1', 'n2', 'n3'];
  for (const id of ids) {
    const node = sim.addNode(id, {
      clockSkewMs: sim.rng.between(-100, 100),
      clockDriftPpm: sim.rng.between(-200, 200),
      disk: { syncLatencyMs: [0.5, 8] },
    });
    startWriter(sim, node);
  }
  const faults = sim.rng.fork('faults');
  let crashes = 0;
  const injectFault = (): void => {
    const id = faults.pick(ids);
    if (sim.isUp(id)) {
      sim.crash(id);
      crashes++;
      sim.schedule(faults.exponential(100), `restart ${id}`, () => startWriter(sim, sim.restart(id)));
    }
    sim.schedule(faults.exponential(300), 'fault', injectFault);
  };
  sim.schedule(faults.exponential(300), 'fault', injectFault);
  sim.run({ untilMs });
  return { hash: sim.traceHash(), events: sim.eventsProcessed, simulatedMs: sim.nowMs(), crashes };
}
