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
// Rates are per CPU second of this process (process.cpuUsage, every thread:
// the garbage collector's and the compiler's helper threads count), so
// other processes on a shared machine slow the wall clock but not the
// figures, and the figure is what one core sustains; wall-clock figures are
// reported too.
//
// What CI and engineers run is thousands of seeds in one process, so the
// headline is the steady state: the measured seeds run after `--warmup`
// seeds (100 by default) have let the JIT compile the hot paths. The first
// 20 seeds of the process, most of them before that, are reported beside it
// as the cold rate (a replay of one seed runs at about that pace).
//
// The target is a rate on one core, so by default the command measures in a
// child process pinned to one CPU (taskset, where it exists): the main thread,
// the garbage collector's and the compiler's threads then share that core,
// as they would on a machine with one core to give. Unpinned, helper threads
// run in parallel on other cores, and their CPU time (some of it spent waiting
// for each other) counts against the figure. `--no-pin` measures in place.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { findScenario } from '../../scenarios/index.ts';
import { runScenario } from '../../sim/run_scenario.ts';
import { runSmallWorld } from '../../sim/simulator_fixture.ts';
import { storeNodeOpener } from '../../sim/store_node_opener.ts';
import { integerFlag, parseFlags, UsageError } from '../cli/command.ts';
import { measureAntiEntropyBytes, renderAntiEntropyBytes } from './anti_entropy_bytes.ts';
import { measureJoinMovement, renderJoinMovement } from './join_movement.ts';

const SCENARIO = 'strong-under-chaos';
const DEFAULT_SEEDS = 300;
const DEFAULT_WARMUP_SEEDS = 100;
const COLD_SEEDS = 20;
const TARGET_EVENTS_PER_SECOND = 100_000;

export interface SimBenchReport {
  scenario: string;
  nodes: number;
  seeds: number;
  warmupSeeds: number;
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
  /** The first seeds of the process (part of the warm-up), measured alone. */
  cold: { seeds: number; events: number; cpuMs: number; eventsPerCpuSecond: number };
  comparator: { name: string; runs: number; events: number; cpuMs: number; eventsPerCpuSecond: number };
  target: { eventsPerSecond: number; met: boolean };
  /** The CPU the process was pinned to, or null when it ran on every CPU it was allowed. */
  pinnedCpu: number | null;
}

const PINNED_ENV = 'RINGKV_BENCH_PINNED_CPU';

/** The CPUs this process may run on (Linux), or null where that cannot be read. */
function allowedCpus(): number[] | null {
  let status: string;
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
  return line === null ? null : parseCpuList(line[1]!);
}

/** The CPUs of a kernel CPU list such as `0-3,8,10-11`, or null if it is not one. */
export function parseCpuList(list: string): number[] | null {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) return null;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return null;
    for (let c = a; c <= b; c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Re-runs this command pinned to one CPU (the last one allowed) and returns
 * its exit code, or null when pinning does not apply: already on one CPU,
 * already the pinned child, or no taskset here.
 */
function runPinned(args: string[]): number | null {
  if (process.env[PINNED_ENV] !== undefined) return null;
  const cpus = allowedCpus();
  if (cpus === null || cpus.length <= 1) return null;
  const cpu = cpus[cpus.length - 1]!;
  const r = spawnSync('taskset', ['-c', String(cpu), process.execPath, ...process.execArgv, process.argv[1]!, 'bench', 'sim', ...args], {
    stdio: 'inherit',
    env: { ...process.env, [PINNED_ENV]: String(cpu) },
  });
  if (r.error !== undefined) {
    process.stderr.write(`could not pin to one CPU (${r.error.message}); measuring on every CPU\n`);
    return null;
  }
  return r.status ?? 1;
}

function pinnedCpuOfThisProcess(): number | null {
  const cpus = allowedCpus();
  return cpus !== null && cpus.length === 1 ? cpus[0]! : null;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

export function runSimBench(seeds: number, warmupSeeds = DEFAULT_WARMUP_SEEDS, onProgress: (line: string) => void = () => {}): SimBenchReport {
  const scenario = findScenario(SCENARIO)!;
  // Warm-up seeds come from another range than the measured ones; the first of them are the cold figure.
  const cold = { seeds: Math.min(COLD_SEEDS, warmupSeeds), events: 0, cpuMs: 0, eventsPerCpuSecond: 0 };
  const coldCpu = process.cpuUsage();
  for (let i = 0; i < warmupSeeds; i++) {
    const { result } = runScenario(scenario, 1_000_000 + i, { opener: storeNodeOpener });
    if (i < cold.seeds) cold.events += result.events;
    if (i + 1 === cold.seeds) cold.cpuMs = cpuMsSince(coldCpu);
    if ((i + 1) % 50 === 0) onProgress(`warm-up: ${i + 1}/${warmupSeeds} seeds`);
  }
  cold.eventsPerCpuSecond = cold.cpuMs > 0 ? cold.events / (cold.cpuMs / 1000) : 0;
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
    if (seed % 100 === 0) onProgress(`measured: ${seed}/${seeds} seeds`);
  }
  const cpuMs = cpuMsSince(cpu0);
  const wallMs = performance.now() - wall0;

  // Steady state as for the store: 30 warm-up worlds, 300 measured (~180k
  // events; 20 were ~0.1 s of CPU, where one tier-up or major GC moved the
  // figure by 2x between runs).
  for (let seed = 1_000_000; seed < 1_000_030; seed++) runSmallWorld(seed);
  let worldEvents = 0;
  const runs = 300;
  const cpu1 = process.cpuUsage();
  for (let seed = 1; seed <= runs; seed++) worldEvents += runSmallWorld(seed).events;
  const worldCpuMs = cpuMsSince(cpu1);

  const eventsPerCpuSecond = events / (cpuMs / 1000);
  return {
    scenario: SCENARIO,
    nodes: scenario.cluster.nodes,
    seeds,
    warmupSeeds,
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
    cold,
    comparator: { name: 'bare simulator (sim/simulator_fixture.ts, 3 nodes writing and syncing disks, crashes)', runs, events: worldEvents, cpuMs: worldCpuMs, eventsPerCpuSecond: worldEvents / (worldCpuMs / 1000) },
    target: { eventsPerSecond: TARGET_EVENTS_PER_SECOND, met: eventsPerCpuSecond >= TARGET_EVENTS_PER_SECOND },
    pinnedCpu: pinnedCpuOfThisProcess(),
  };
}

export function renderSimBench(r: SimBenchReport): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  return [
    `ringkv bench sim: ${r.scenario}, ${r.nodes} nodes, ${r.seeds} seeds measured after ${r.warmupSeeds} warm-up seeds (steady state)`,
    r.pinnedCpu !== null
      ? `  pinned to CPU ${r.pinnedCpu}: every thread of the process (GC and compiler included) shares one core`
      : '  NOT pinned: helper threads ran on other cores and their CPU time counts (--no-pin, or no taskset here)',
    '',
    `                       per CPU second   per wall second`,
    `  simulated events     ${n(r.eventsPerCpuSecond).padStart(14)}   ${n(r.eventsPerWallSecond).padStart(15)}`,
    `  seeds per minute     ${n(r.seedsPerCpuMinute).padStart(14)}   ${n(r.seedsPerWallMinute).padStart(15)}`,
    '',
    `  ${n(r.events)} events, ${n(r.operations)} client operations (${r.eventsPerOperation.toFixed(1)} events each), ${(r.cpuMs / 1000).toFixed(1)} s CPU, ${(r.wallMs / 1000).toFixed(1)} s wall`,
    r.cold.seeds > 0 ? `  cold: the process's first ${r.cold.seeds} seeds ran ${n(r.cold.eventsPerCpuSecond)} events per CPU second (JIT still compiling)` : '  cold: not measured (no warm-up seeds)',
    `  comparator: ${r.comparator.name}: ${n(r.comparator.eventsPerCpuSecond)} events per CPU second (${r.comparator.runs} runs)`,
    `  the store costs ${(r.comparator.eventsPerCpuSecond / r.eventsPerCpuSecond).toFixed(1)}x the bare simulator per event`,
    `  target ${n(r.target.eventsPerSecond)} events/s: ${r.target.met ? 'met' : 'NOT met'}`,
    r.unmet.length === 0 ? '  every seed met the scenario\'s expectations' : `  seeds NOT meeting the expectations: ${r.unmet.join(', ')}`,
  ].join('\n');
}

export async function runSimBenchCommand(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, { booleans: ['json', 'no-pin'], strings: ['seeds', 'warmup'] });
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const seeds = integerFlag(flags, 'seeds', DEFAULT_SEEDS, { min: 1 });
  const warmup = integerFlag(flags, 'warmup', DEFAULT_WARMUP_SEEDS, { min: 0 });
  if (!flags.has('no-pin')) {
    const code = runPinned(args);
    if (code !== null) return code;
  }
  const report = runSimBench(seeds, warmup, (line) => process.stderr.write(`${line}\n`));
  const joinMovement = measureJoinMovement();
  const antiEntropy = measureAntiEntropyBytes();
  console.log(
    flags.has('json')
      ? JSON.stringify({ ...report, joinMovement, antiEntropy })
      : `${renderSimBench(report)}\n\n${renderJoinMovement(joinMovement)}\n\n${renderAntiEntropyBytes(antiEntropy)}`,
  );
  return report.unmet.length === 0 ? 0 : 1;
}
