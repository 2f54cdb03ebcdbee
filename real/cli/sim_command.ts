// `ringkv sim`: runs a named scenario in the deterministic simulator, for one
// seed or a range of seeds, and judges it (sim/run_scenario.ts).
//
// Exit codes. One seed: DESIGN.md's contract, literally: 0 when every check
// passes, 1 when one fails (or the run ended in an error). A scenario that
// exists to show a check failing (eventual-not-linearizable, clock-skew-lww)
// therefore exits 1 on a seed where the check caught it; the text output
// says "expectation met" there, and the JSON has `expectation.met`.
// A range of seeds judges the scenario rather than a run: 0 when every seed
// met the scenario's expectations (its must-pass checks passed, no run ended
// in an error), every must-fail check was caught on at least the scenario's
// share of seeds, and every coverage mark the scenario requires was hit;
// 1 otherwise. 2 is a usage error.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SCENARIOS, findScenario } from '../../scenarios/index.ts';
import { encodeHistory } from '../../sim/history.ts';
import { type RunResult, exitCodeOf, failedChecks, runScenario } from '../../sim/run_scenario.ts';
import { CHECK_NAMES, type CheckName, type Scenario } from '../../sim/scenario.ts';
import type { Seed } from '../../sim/sim_rng.ts';
import { storeNodeOpener } from '../../sim/store_node_opener.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

const HELP = `usage: ringkv sim --scenario NAME --seed N [--json] [--history FILE]
       ringkv sim --scenario NAME --seeds A..B [--json]
       ringkv sim --scenario NAME --seed N --check-determinism

Runs a scenario (list them with \`ringkv scenarios\`) in the deterministic
simulator: a cluster of store nodes, clients, a seeded fault schedule, then a
liveness phase (faults stop, every node up, reads at ALL), and the checks:
linearizability of the keys used with STRONG, convergence of every replica,
durability of every acknowledged write, validity of every read. The same
scenario and seed replay the same run, byte for byte.

options:
  --seed N             one run; N is an integer or any string (a git SHA will do)
  --seeds A..B         every integer seed from A to B, both included: a progress
                       bar on stderr, a summary, and each seed that did not meet
                       the scenario's expectations with the command replaying it
  --json               one JSON object: for --seed, scenario, seed, traceHash,
                       events, simulatedMs, ops {ok, fail, info}, checks
                       {linearizable, converged, lostWrites, invalidReads},
                       violations [], and the expectation, error, marks, faults;
                       for --seeds, a summary of the range
  --history FILE       write the run's history in the ringkv format: the
                       operations on the keys the linearizability check covers
                       (all operations when it covers none), so that
                       \`ringkv check --format ringkv FILE\` repeats its verdict
  --check-determinism  run the seed here and again in a separate process and
                       compare the trace hashes

exit codes: --seed: 0 every check passed, 1 a check failed or the run ended in
an error (a scenario built to fail a check exits 1 when it does; the output
says whether the expectation was met). --seeds: 0 when the scenario met its
expectations over the range, 1 otherwise. 2: usage error.`;

/** Seeds are integers when they look like one, else strings. */
export function parseSeed(text: string): Seed {
  if (/^(0|[1-9]\d{0,14})$/.test(text)) return Number(text);
  if (text.length === 0 || text.length > 200) throw new UsageError(`seed '${text}' must be 1 to 200 characters`);
  return text;
}

export function parseSeedRange(text: string): { from: number; to: number } {
  const m = /^(\d{1,15})\.\.(\d{1,15})$/.exec(text);
  if (m === null) throw new UsageError(`--seeds wants A..B (integers), got '${text}'`);
  const from = Number(m[1]);
  const to = Number(m[2]);
  if (from > to) throw new UsageError(`--seeds ${text}: A must not exceed B`);
  return { from, to };
}

function scenarioFlag(flags: Map<string, string | true>): Scenario {
  const name = flags.get('scenario');
  if (typeof name !== 'string') throw new UsageError('--scenario NAME is required (see `ringkv scenarios`)');
  const scenario = findScenario(name);
  if (scenario === undefined) throw new UsageError(`unknown scenario '${name}'; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return scenario;
}

export function replayCommand(scenario: string, seed: Seed): string {
  const s = String(seed);
  return `npx ringkv sim --scenario ${scenario} --seed ${/^[\w.-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`}`;
}

const yes = (b: boolean): string => (b ? 'yes' : 'NO');

function expectationNote(scenario: Scenario, check: CheckName, passed: boolean): string {
  const e = scenario.expect[check];
  if (e === 'fail') return passed ? '  (this scenario expects it to fail on most seeds: not caught on this seed)' : '  (expected: this scenario exists to show it failing)';
  if (e === 'pass' && !passed) return '  (must pass)';
  return '';
}

/** The human report of one run. */
export function formatRun(scenario: Scenario, r: RunResult, maxViolations = 5): string {
  const failed = failedChecks(r.checks);
  const lines = [
    `scenario ${r.scenario}, seed ${r.seed}: ${r.error !== null ? 'the run ended in an error' : failed.length === 0 ? 'every check passed' : `failed: ${failed.join(', ')}`}`,
    `  trace hash ${r.traceHash}, ${r.events} events, ${Math.round(r.simulatedMs)} ms simulated, ${r.ops.ok + r.ops.fail + r.ops.info} operations (${r.ops.ok} ok, ${r.ops.fail} failed, ${r.ops.info} unknown)`,
  ];
  if (r.error !== null) lines.push(`  error: ${r.error}`);
  else {
    const lin = r.checks.linearizable === null ? 'not checked (no key group is)' : yes(r.checks.linearizable);
    lines.push(
      `  linearizable   ${lin}${r.checks.linearizable === null ? '' : expectationNote(scenario, 'linearizable', r.checks.linearizable)}`,
      `  converged      ${yes(r.checks.converged)} (after ${r.readPasses} read-all pass${r.readPasses === 1 ? '' : 'es'})${expectationNote(scenario, 'converged', r.checks.converged)}`,
      `  lost writes    ${r.checks.lostWrites}${expectationNote(scenario, 'durability', r.checks.lostWrites === 0)}`,
      `  invalid reads  ${r.checks.invalidReads}${expectationNote(scenario, 'validity', r.checks.invalidReads === 0)}`,
    );
  }
  if (r.faults.length > 0) lines.push(`  faults injected: ${r.faults.length} (first: ${r.faults[0]}; --json lists them all)`);
  for (const f of r.faults.filter((x) => x.includes('failed to open'))) lines.push(`  ${f}`);
  for (const v of r.violations.slice(0, maxViolations)) {
    lines.push(`  [${v.check}] ${v.key === '' ? '' : `${v.key}: `}${v.message.split('\n').join('\n    ')}`);
  }
  if (r.violations.length > maxViolations) lines.push(`  ... and ${r.violations.length - maxViolations} more violations (--json lists them all)`);
  if (r.expectation.met && failed.length > 0) {
    lines.push(`expectation met: ${r.expectation.caught.join(', ')} failed as this scenario requires (exit code 1 all the same: a check failed)`);
  } else if (r.expectation.met) {
    lines.push(r.expectation.missed.length > 0 ? `expectation met on this seed, but ${r.expectation.missed.join(', ')} was not caught here (the scenario expects it on most seeds)` : 'expectation met');
  } else {
    lines.push(`expectation NOT met${r.expectation.unexpected.length > 0 ? `: ${r.expectation.unexpected.join(', ')} must pass` : ''}`);
  }
  if (exitCodeOf(r) !== 0) lines.push(`replay: ${replayCommand(r.scenario, r.seed)}`);
  return lines.join('\n');
}

interface BatchSummary {
  scenario: string;
  seeds: { from: number; to: number };
  runs: number;
  met: number;
  errors: number;
  /** Per must-fail check: on how many seeds it was caught, and the share required. */
  mustFail: { check: CheckName; caught: number; rate: number; required: number; ok: boolean }[];
  /** Coverage marks the scenario requires, with their hits over the range. */
  requiredMarks: { mark: string; hits: number }[];
  events: number;
  wallMs: number;
  eventsPerSecond: number;
  seedsPerMinute: number;
  unmet: { seed: number; replay: string; error: string | null; checks: RunResult['checks']; violations: RunResult['violations'] }[];
  ok: boolean;
}

function progress(done: number, total: number, unmet: number, started: number): void {
  const elapsed = (performance.now() - started) / 1000;
  const tty = process.stderr.isTTY === true;
  const text = `${done}/${total} seeds, ${unmet} not meeting expectations, ${elapsed.toFixed(1)} s`;
  if (tty) {
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
    if (done === total) process.stderr.write('\n');
  } else if (done === total || done % Math.max(1, Math.ceil(total / 10)) === 0) {
    process.stderr.write(`progress: ${text}\n`);
  }
}

export function runBatch(scenario: Scenario, from: number, to: number, onSeed?: (done: number, unmet: number) => void): BatchSummary {
  const started = performance.now();
  const summary: BatchSummary = {
    scenario: scenario.name,
    seeds: { from, to },
    runs: 0,
    met: 0,
    errors: 0,
    mustFail: [],
    requiredMarks: [],
    events: 0,
    wallMs: 0,
    eventsPerSecond: 0,
    seedsPerMinute: 0,
    unmet: [],
    ok: false,
  };
  const caught = new Map<CheckName, number>();
  const marks = new Map<string, number>();
  for (let seed = from; seed <= to; seed++) {
    const { result } = runScenario(scenario, seed, { opener: storeNodeOpener });
    summary.runs++;
    summary.events += result.events;
    if (result.error !== null) summary.errors++;
    for (const c of result.expectation.caught) caught.set(c, (caught.get(c) ?? 0) + 1);
    for (const [m, n] of Object.entries(result.marks)) marks.set(m, (marks.get(m) ?? 0) + n);
    if (result.expectation.met) summary.met++;
    else summary.unmet.push({ seed, replay: replayCommand(scenario.name, seed), error: result.error, checks: result.checks, violations: result.violations });
    onSeed?.(summary.runs, summary.unmet.length);
  }
  const required = scenario.minCatchRate ?? 0.5;
  summary.mustFail = CHECK_NAMES.filter((c) => scenario.expect[c] === 'fail').map((check) => {
    const n = caught.get(check) ?? 0;
    const rate = n / summary.runs;
    return { check, caught: n, rate, required, ok: rate >= required };
  });
  summary.requiredMarks = (scenario.requiredMarks ?? []).map((mark) => ({ mark, hits: marks.get(mark) ?? 0 }));
  summary.wallMs = performance.now() - started;
  summary.eventsPerSecond = summary.events / (summary.wallMs / 1000);
  summary.seedsPerMinute = summary.runs / (summary.wallMs / 60_000);
  summary.ok = summary.unmet.length === 0 && summary.mustFail.every((m) => m.ok) && summary.requiredMarks.every((m) => m.hits > 0);
  return summary;
}

export function formatBatch(s: BatchSummary, maxExplained = 5): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `scenario ${s.scenario}, seeds ${s.seeds.from}..${s.seeds.to}: ${s.runs} runs in ${(s.wallMs / 1000).toFixed(1)} s (${s.seedsPerMinute.toFixed(0)} seeds/min, ${Math.round(s.eventsPerSecond).toLocaleString('en-US')} simulated events/s)`,
    `  expectations met on ${s.met} of ${s.runs} seeds${s.errors > 0 ? ` (${s.errors} runs ended in an error)` : ''}`,
  ];
  for (const m of s.mustFail) {
    lines.push(`  must fail: ${m.check} caught on ${m.caught} of ${s.runs} seeds (${pct(m.rate)}; at least ${pct(m.required)} required)${m.ok ? '' : ' -- TOO RARELY'}`);
  }
  for (const m of s.requiredMarks) lines.push(`  coverage: '${m.mark}' hit ${m.hits} times${m.hits === 0 ? ' -- NEVER' : ''}`);
  if (s.unmet.length > 0) {
    lines.push(`seeds that did not meet the expectations (${s.unmet.length}):`);
    s.unmet.forEach((u, i) => {
      const what = u.error !== null ? `error: ${u.error}` : `failed: ${failedChecks(u.checks).join(', ')}`;
      lines.push(`  seed ${u.seed}: ${what}`, `    replay: ${u.replay}`);
      if (i < maxExplained) for (const v of u.violations.slice(0, 2)) lines.push(`    [${v.check}] ${v.key === '' ? '' : `${v.key}: `}${v.message.split('\n').join('\n      ')}`);
    });
    if (s.unmet.length > maxExplained) lines.push(`  (explanations shown for the first ${maxExplained}; replay a seed for its own)`);
  }
  lines.push(s.ok ? 'scenario met its expectations over the range' : 'scenario did NOT meet its expectations over the range');
  return lines.join('\n');
}

function checkDeterminism(scenario: Scenario, seed: Seed, json: boolean): number {
  const here = runScenario(scenario, seed, { opener: storeNodeOpener }).result;
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'ringkv.mjs');
  const out = execFileSync(process.execPath, [bin, 'sim', '--scenario', scenario.name, '--seed', String(seed), '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 }).trim();
  const there = JSON.parse(out.split('\n').pop()!) as RunResult;
  const same = here.traceHash === there.traceHash && here.events === there.events;
  if (json) console.log(JSON.stringify({ scenario: scenario.name, seed, deterministic: same, traceHashes: [here.traceHash, there.traceHash], events: [here.events, there.events] }));
  else if (same) console.log(`deterministic: scenario ${scenario.name}, seed ${seed}: trace hash ${here.traceHash} and ${here.events} events in this process and in a separate one`);
  else console.log(`NOT deterministic: scenario ${scenario.name}, seed ${seed}: trace hash ${here.traceHash} (${here.events} events) here, ${there.traceHash} (${there.events} events) in a separate process`);
  return same ? 0 : 1;
}

export const command: Command = {
  name: 'sim',
  summary: 'run a scenario in the deterministic simulator for a seed or a range of seeds',
  help: HELP,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['json', 'check-determinism'], strings: ['scenario', 'seed', 'seeds', 'history'] });
    if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
    const scenario = scenarioFlag(flags);
    const json = flags.has('json');
    const seedText = flags.get('seed');
    const range = flags.get('seeds');
    if ((seedText === undefined) === (range === undefined)) throw new UsageError('give exactly one of --seed N and --seeds A..B');
    if (range !== undefined) {
      if (flags.has('history') || flags.has('check-determinism')) throw new UsageError('--history and --check-determinism go with --seed, not --seeds');
      const { from, to } = parseSeedRange(range as string);
      const started = performance.now();
      const summary = runBatch(scenario, from, to, (done, unmet) => progress(done, to - from + 1, unmet, started));
      console.log(json ? JSON.stringify(summary) : formatBatch(summary));
      return summary.ok ? 0 : 1;
    }
    const seed = parseSeed(seedText as string);
    if (flags.has('check-determinism')) return checkDeterminism(scenario, seed, json);
    const outcome = runScenario(scenario, seed, { opener: storeNodeOpener });
    const historyFile = flags.get('history');
    if (typeof historyFile === 'string') writeFileSync(historyFile, encodeHistory(outcome.history));
    console.log(json ? JSON.stringify(outcome.result) : formatRun(scenario, outcome.result));
    if (typeof historyFile === 'string' && !json) console.log(`wrote the history (${outcome.history.length} operations) to ${historyFile}`);
    return exitCodeOf(outcome.result);
  },
};
