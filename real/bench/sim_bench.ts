// `ringkv bench sim`: how fast the simulator runs the store, on
// strong-under-chaos (5 nodes, every fault kind): simulated events per
// second and seeds per minute, on one core.
//
// An event is one event the simulator dequeues and runs (Simulator.run's
// count, the `events` of `ringkv sim --json`): a frame delivered to a node,
// a timer firing, a disk completion, a world event (fault injection, a
// workload step). Events dropped unrun because their node crashed, and work
// done outside events (opening and recovering nodes at start and restart,
// the checkers) are not counted, though their CPU time is in the figure.
//
// Beside it, in the same process,
// the bare simulator (sim/simulator_fixture.ts: nodes that only write and
// sync their disks, with crashes) as the comparator: the ceiling the event
// loop, clocks, timers and disks allow, so the report shows how much of a
// store event's cost is the store itself.
//
// Rates are per CPU second of this process (process.cpuUsage), so other
// processes on a shared machine slow the wall clock but not the figures;
// wall-clock figures are reported too.

import { performance } from 'node:perf_hooks';
import { findScenario } from '../../scenarios/index.ts';
import { runScenario } from '../../sim/run_scenario.ts';
import { runSmallWorld } from '../../sim/simulator_fixture.ts';
import { storeNodeOpener } from '../../sim/store_node_opener.ts';
import { parseFlags, UsageError } from '../cli/command.ts';
import { measureAntiEntropyBytes, renderAntiEntropyBytes } from './anti_entropy_bytes.ts';
import { measureJoinMovement, renderJoinMovement } from './join_movement.ts';

const SCENARIO = 'strong-under-chaos';
const DEFAULT_SEEDS = 40;
const WARMUP_SEEDS = 3;
const TARGET_EVENTS_PER_SECOND = 100_000;

export interface SimBenchReport {
  scenario: string;
  nodes: number;
  seeds: number;
  events: number;
  operations: number;
  cpuMs: number;
  wallMs: number;
  eventsPerCpuSecond: number;
  eventsPerWallSecond: number;
  seedsPerCpuMinute: number;
  seedsPerWallMinute: number;
  eventsPerOperation: number;
  /** Seeds whose expectations were not met (should be 0). */
  unmet: number[];
  comparator: { name: string; runs: number; events: number; cpuMs: number; eventsPerCpuSecond: number };
  target: { eventsPerSecond: number; met: boolean };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

export function runSimBench(seeds: number): SimBenchReport {
  const scenario = findScenario(SCENARIO)!;
  for (let seed = 1_000_000; seed < 1_000_000 + WARMUP_SEEDS; seed++) runScenario(scenario, seed, { opener: storeNodeOpener });
  let events = 0;
  let operations = 0;
  const unmet: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const { result } = runScenario(scenario, seed, { opener: storeNodeOpener });
    events += result.events;
    operations += result.ops.ok + result.ops.fail + result.ops.info;
    if (!result.expectation.met) unmet.push(seed);
  }
  const cpuMs = cpuMsSince(cpu0);
  const wallMs = performance.now() - wall0;

  // 3 warm-up worlds and 100 measured (~60k events): 20 were ~0.1 s of CPU, and
  // one tier-up or major GC inside it moved the figure by 2x between runs.
  for (let seed = 1_000_000; seed < 1_000_003; seed++) runSmallWorld(seed);
  let worldEvents = 0;
  const runs = 100;
  const cpu1 = process.cpuUsage();
  for (let seed = 1; seed <= runs; seed++) worldEvents += runSmallWorld(seed).events;
  const worldCpuMs = cpuMsSince(cpu1);

  const eventsPerCpuSecond = events / (cpuMs / 1000);
  return {
    scenario: SCENARIO,
    nodes: scenario.cluster.nodes,
    seeds,
    events,
    operations,
    cpuMs,
    wallMs,
    eventsPerCpuSecond,
    eventsPerWallSecond: events / (wallMs / 1000),
    seedsPerCpuMinute: seeds / (cpuMs / 60_000),
    seedsPerWallMinute: seeds / (wallMs / 60_000),
    eventsPerOperation: events / Math.max(1, operations),
    unmet,
    comparator: { name: 'bare simulator (sim/simulator_fixture.ts, 3 nodes writing and syncing disks, crashes)', runs, events: worldEvents, cpuMs: worldCpuMs, eventsPerCpuSecond: worldEvents / (worldCpuMs / 1000) },
    target: { eventsPerSecond: TARGET_EVENTS_PER_SECOND, met: eventsPerCpuSecond >= TARGET_EVENTS_PER_SECOND },
  };
}

export function renderSimBench(r: SimBenchReport): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  return [
    `ringkv bench sim: ${r.scenario}, ${r.nodes} nodes, ${r.seeds} seeds (after ${WARMUP_SEEDS} warm-up seeds)`,
    '',
    `                       per CPU second   per wall second`,
    `  simulated events     ${n(r.eventsPerCpuSecond).padStart(14)}   ${n(r.eventsPerWallSecond).padStart(15)}`,
    `  seeds per minute     ${n(r.seedsPerCpuMinute).padStart(14)}   ${n(r.seedsPerWallMinute).padStart(15)}`,
    '',
    `  ${n(r.events)} events, ${n(r.operations)} client operations (${r.eventsPerOperation.toFixed(1)} events each), ${(r.cpuMs / 1000).toFixed(1)} s CPU, ${(r.wallMs / 1000).toFixed(1)} s wall`,
    `  comparator: ${r.comparator.name}: ${n(r.comparator.eventsPerCpuSecond)} events per CPU second (${r.comparator.runs} runs)`,
    `  the store costs ${(r.comparator.eventsPerCpuSecond / r.eventsPerCpuSecond).toFixed(1)}x the bare simulator per event`,
    `  target ${n(r.target.eventsPerSecond)} events/s: ${r.target.met ? 'met' : 'NOT met'}`,
    r.unmet.length === 0 ? '  every seed met the scenario\'s expectations' : `  seeds NOT meeting the expectations: ${r.unmet.join(', ')}`,
  ].join('\n');
}

export async function runSimBenchCommand(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, { booleans: ['json'], strings: ['seeds'] });
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const seedsFlag = flags.get('seeds');
  const seeds = seedsFlag === undefined ? DEFAULT_SEEDS : Number(seedsFlag);
  if (!Number.isInteger(seeds) || seeds < 1) throw new UsageError(`--seeds must be a positive integer, got ${String(seedsFlag)}`);
  const report = runSimBench(seeds);
  const joinMovement = measureJoinMovement();
  const antiEntropy = measureAntiEntropyBytes();
  console.log(
    flags.has('json')
      ? JSON.stringify({ ...report, joinMovement, antiEntropy })
      : `${renderSimBench(report)}\n\n${renderJoinMovement(joinMovement)}\n\n${renderAntiEntropyBytes(antiEntropy)}`,
  );
  return report.unmet.length === 0 ? 0 : 1;
}
