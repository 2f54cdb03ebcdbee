// Runs one scenario for one seed, in the spirit of TigerBeetle's VOPR: build
// the simulated cluster, run the workload under the fault schedule (safety
// phase), stop the faults and bring everything up (liveness phase), read
// every key at ALL until the replicas converge, then judge the run with every
// checker. The same scenario and seed give the same run, so the result names
// everything needed to replay a failure: the scenario and the seed.
//
// The result is the `--json` object of DESIGN.md's `ringkv sim` contract,
// plus how the checks compare with the scenario's expectations. An exception
// thrown inside the run (an assertion of a node, a frame the codec cannot
// read, a node that cannot open its disk, an exhausted event budget) ends it
// with `error` set and every check reported as not passed.

import { assert } from '../io/assert.ts';
import type { History } from './history.ts';
import { type CheckViolation } from './checkers/final_state.ts';
import { checkConvergence } from './checkers/convergence.ts';
import { checkDurability } from './checkers/durability.ts';
import { checkLinearizability } from './checkers/linearizability.ts';
import { explainViolation, formatViolation } from './checkers/linearizability_explanation.ts';
import { checkValidity } from './checkers/validity.ts';
import { type ClientOp, toHistory } from './client_op.ts';
import { type NodeOpener, SimCluster } from './cluster.ts';
import { FaultSchedule } from './fault_schedule.ts';
import { CHECK_NAMES, type CheckName, type Scenario } from './scenario.ts';
import type { Seed } from './sim_rng.ts';
import { Simulator } from './simulator.ts';
import { Workload } from './workload.ts';

export interface RunChecks {
  /** null when no key group is checked for linearizability (or the search gave up). */
  linearizable: boolean | null;
  converged: boolean;
  lostWrites: number;
  invalidReads: number;
}

export interface RunResult {
  scenario: string;
  seed: Seed;
  traceHash: string;
  events: number;
  simulatedMs: number;
  ops: { ok: number; fail: number; info: number };
  checks: RunChecks;
  violations: CheckViolation[];
  /** The checks against the scenario's expectations. */
  expectation: {
    /** No check the scenario requires to pass failed, and the run did not end in an error. */
    met: boolean;
    /** Checks that failed although they must pass. */
    unexpected: CheckName[];
    /** Must-fail checks that failed (caught) and that passed (not caught on this seed). */
    caught: CheckName[];
    missed: CheckName[];
  };
  /** Why the run ended early, or null. */
  error: string | null;
  /** Read-all passes the liveness phase needed. */
  readPasses: number;
  /** Coverage marks hit, over every node and incarnation. */
  marks: Record<string, number>;
  /** Faults injected, in order. */
  faults: string[];
}

export interface RunOutcome {
  result: RunResult;
  /** The register history of the keys the linearizability check covers (every operation when it covers none). */
  history: History;
  ops: ClientOp[];
  /** The liveness phase's read-all reads. */
  finalReads: ClientOp[];
  /** The last trace lines, when RunOptions.traceKeepLines asked for them. */
  trace: string[];
}

export interface RunOptions {
  opener: NodeOpener;
  /** Events allowed over the whole run; default 20 million. */
  maxEvents?: number;
  /** Search steps allowed to the linearizability check; default 20 million. */
  maxCheckSteps?: number;
  /** Sees the exception that ended a run early (for its stack). */
  onError?: (err: unknown) => void;
  /** Keep this many of the last trace lines readable (RunOutcome.trace), to see how a run ended. */
  traceKeepLines?: number;
}

/** Which checks failed, from the check results. */
export function failedChecks(checks: RunChecks): CheckName[] {
  const failed: CheckName[] = [];
  if (checks.linearizable === false) failed.push('linearizable');
  if (!checks.converged) failed.push('converged');
  if (checks.lostWrites > 0) failed.push('durability');
  if (checks.invalidReads > 0) failed.push('validity');
  return failed;
}

/** DESIGN.md's exit code of one run: 0 when every check passes, 1 when one fails (or the run ended in an error). */
export function exitCodeOf(result: RunResult): number {
  return result.error === null && failedChecks(result.checks).length === 0 ? 0 : 1;
}

/** Events a run may still process; a livelock or a runaway scenario ends in an error instead of hanging. */
class EventBudget {
  constructor(private left: number) {}

  limits(untilMs: number): { maxEvents: number; untilMs: number } {
    if (this.left <= 0) throw new Error('event budget exhausted (a livelock, or a scenario too long for its budget)');
    return { maxEvents: this.left, untilMs };
  }

  spend(n: number): void {
    this.left -= n;
  }
}

export function runScenario(scenario: Scenario, seed: Seed, options: RunOptions): RunOutcome {
  const checksLinearizability = scenario.workload.groups.some((g) => g.linearizable);
  assert(checksLinearizability || scenario.expect.linearizable === 'either', `${scenario.name}: no key group is checked for linearizability, so its expectation must be 'either'`);
  const sim = new Simulator({ seed, traceKeepLines: options.traceKeepLines ?? 0 });
  const faults = new FaultSchedule(scenario.faults, sim.rng.fork('faults'));
  const budget = new EventBudget(options.maxEvents ?? 20_000_000);
  let cluster: SimCluster | null = null;
  let workload: Workload | null = null;
  let readPasses = 0;
  let error: string | null = null;
  let checks: RunChecks = { linearizable: null, converged: false, lostWrites: 0, invalidReads: 0 };
  let violations: CheckViolation[] = [];
  let history: History = [];

  const runFor = (ms: number): void => {
    const before = sim.eventsProcessed;
    sim.run(budget.limits(sim.nowMs() + ms));
    budget.spend(sim.eventsProcessed - before);
    cluster!.throwIfFatal();
  };
  const runUntil = (what: string, done: () => boolean, withinMs: number): void => {
    const before = sim.eventsProcessed;
    const ok = sim.runUntil(done, budget.limits(sim.nowMs() + withinMs));
    budget.spend(sim.eventsProcessed - before);
    cluster!.throwIfFatal();
    if (!ok) throw new Error(`${what} within ${withinMs} ms of simulated time`);
  };

  try {
    cluster = new SimCluster(sim, scenario.cluster, options.opener, (i) => faults.nodeOptions(i));
    const c = cluster;
    c.startAll();
    runUntil('the cluster did not open', () => c.allReady(), 60_000);
    workload = new Workload(sim, c, scenario.workload, sim.rng.fork('workload'));
    const w = workload;
    // Safety phase.
    faults.start(sim, c);
    c.startRingChanges();
    w.start();
    runFor(scenario.durationMs);
    w.stop();
    runUntil('client operations did not finish', () => w.idle(), scenario.workload.clientTimeoutMs + 1);
    // Liveness phase.
    faults.heal(sim, c);
    runUntil('the cluster did not reopen after the faults stopped', () => c.allReady(), 60_000);
    runUntil('the ring changes did not finish', () => c.ringChangesDone() && c.allReady(), 300_000);
    runFor(scenario.liveness.settleMs);
    const keys = w.keys();
    let state = c.finalState(keys);
    while (readPasses < scenario.liveness.maxReadPasses) {
      w.readAll('ALL', readPasses);
      readPasses++;
      runUntil('the read-all pass did not finish', () => w.idle(), scenario.workload.clientTimeoutMs + 1);
      runFor(scenario.liveness.afterPassMs);
      state = c.finalState(keys);
      if (checkConvergence(state).converged) break;
    }
    // Judgement.
    const linearizableGroups = new Set(scenario.workload.groups.filter((g) => g.linearizable).map((g) => `${g.keyspace}/${g.prefix}`));
    const checked = (op: ClientOp): boolean => {
      const g = keys.find((k) => k.keyspace === op.keyspace && k.key === op.key)?.group;
      return g !== undefined && linearizableGroups.has(`${g.keyspace}/${g.prefix}`);
    };
    const linHistory = toHistory(w.ops, checked);
    history = checksLinearizability ? linHistory : toHistory(w.ops);
    let linearizable: boolean | null = null;
    const linViolations: CheckViolation[] = [];
    if (checksLinearizability) {
      const verdict = checkLinearizability(linHistory, { maxSteps: options.maxCheckSteps ?? 20_000_000 });
      if (verdict.verdict === 'not-linearizable') {
        linearizable = false;
        const bad = verdict.keys.find((k) => k.verdict === 'not-linearizable')!;
        const v = explainViolation(linHistory, bad.key);
        linViolations.push({ check: 'linearizable', key: bad.key, message: v === null ? 'not linearizable' : formatViolation(linHistory, v) });
      } else if (verdict.verdict === 'linearizable') {
        linearizable = true;
      } else {
        linViolations.push({ check: 'linearizable', key: '', message: `undecided: ${verdict.reason}` });
      }
    }
    const convergence = checkConvergence(state);
    const durability = checkDurability(w.ops, state.keys, { lwwUncertaintyMs: scenario.lwwUncertaintyMs });
    const validity = checkValidity([...w.ops, ...w.finalReads], state.keys);
    checks = { linearizable, converged: convergence.converged, lostWrites: durability.lostWrites, invalidReads: validity.invalidReads };
    violations = [...linViolations, ...convergence.violations, ...durability.violations, ...validity.violations];
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    options.onError?.(err);
    checks = { linearizable: null, converged: false, lostWrites: 0, invalidReads: 0 };
  }

  const ops = workload?.ops ?? [];
  const count = (o: string): number => ops.filter((op) => op.outcome === o).length;
  const failed = failedChecks(checks);
  const expectation = {
    met: error === null && failed.every((c) => scenario.expect[c] !== 'pass') && !(checks.linearizable === null && scenario.expect.linearizable === 'pass'),
    unexpected: failed.filter((c) => scenario.expect[c] === 'pass'),
    caught: failed.filter((c) => scenario.expect[c] === 'fail'),
    missed: CHECK_NAMES.filter((c) => scenario.expect[c] === 'fail' && !failed.includes(c)),
  };
  const result: RunResult = {
    scenario: scenario.name,
    seed,
    traceHash: sim.traceHash(),
    events: sim.eventsProcessed,
    simulatedMs: sim.nowMs(),
    ops: { ok: count('ok'), fail: count('fail'), info: count('info') },
    checks,
    violations,
    expectation,
    error,
    readPasses,
    marks: Object.fromEntries(cluster?.marks() ?? []),
    faults: [...faults.log, ...(cluster?.openFailures ?? [])],
  };
  return { result, history, ops, finalReads: workload?.finalReads ?? [], trace: sim.recentTrace() };
}
