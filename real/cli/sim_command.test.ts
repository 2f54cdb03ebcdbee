import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SCENARIOS } from '../../scenarios/index.ts';
import { decodeHistory } from '../../sim/history.ts';
import { command as checkCommand } from './check_command.ts';
import { main } from './main.ts';
import { command as scenariosCommand } from './scenarios_command.ts';
import { command, formatBatch, parseSeed, parseSeedRange, replayCommand } from './sim_command.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ringkv-sim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
});
afterEach(() => vi.restoreAllMocks());

describe('ringkv scenarios', () => {
  it('lists every scenario on one line, with what its checks must do', async () => {
    expect(await scenariosCommand.run([])).toBe(0);
    expect(out).toHaveLength(SCENARIOS.length);
    expect(out[0]).toMatch(/^smoke\s+must pass\s+healthy/);
    expect(out.find((l) => l.startsWith('eventual-not-linearizable'))).toMatch(/must fail linearizable/);
    expect(out.find((l) => l.startsWith('clock-skew-lww'))).toMatch(/must fail durability/);
  });
});

describe('ringkv sim', () => {
  it('one passing seed: the checks, "expectation met", exit 0', async () => {
    expect(await main(['sim', '--scenario', 'read-repair', '--seed', '1'])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^scenario read-repair, seed 1: every check passed/);
    expect(text).toMatch(/trace hash [0-9a-f]{16}, \d+ events/);
    expect(text).toContain('linearizable   not checked');
    expect(text).toContain('converged      yes');
    expect(text).toMatch(/expectation met$/);
    expect(text).not.toContain('replay:');
  });

  it('a must-fail scenario caught on its seed: exit 1 as DESIGN says, "expectation met", the explanation and the replay command', async () => {
    expect(await main(['sim', '--scenario', 'eventual-not-linearizable', '--seed', '1'])).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('linearizable   NO  (expected: this scenario exists to show it failing)');
    expect(text).toContain('shortest prefix that cannot be linearized');
    expect(text).toContain('expectation met: linearizable failed as this scenario requires');
    expect(text).toContain('replay: npx ringkv sim --scenario eventual-not-linearizable --seed 1');
  });

  it('--json prints the contract object, and --history writes what `ringkv check` judges the same way', async () => {
    const file = join(tmp, 'h.jsonl');
    expect(await command.run(['--scenario', 'eventual-not-linearizable', '--seed', '2', '--json', '--history', file])).toBe(1);
    const r = JSON.parse(out.join('\n'));
    for (const field of ['scenario', 'seed', 'traceHash', 'events', 'simulatedMs', 'ops', 'checks', 'violations']) expect(r).toHaveProperty(field);
    expect(Object.keys(r.ops).sort()).toEqual(['fail', 'info', 'ok']);
    expect(Object.keys(r.checks).sort()).toEqual(['converged', 'invalidReads', 'linearizable', 'lostWrites']);
    expect(r.seed).toBe(2);
    expect(r.checks.linearizable).toBe(false);
    expect(r.violations[0].check).toBe('linearizable');
    const history = decodeHistory(readFileSync(file, 'utf8'));
    expect(history.length).toBeGreaterThan(100);
    expect(history.every((op) => op.key.startsWith('default/o'))).toBe(true);
    out = [];
    expect(await checkCommand.run(['--format', 'ringkv', file])).toBe(1);
  });

  it('takes any string as a seed, such as a git SHA', async () => {
    expect(parseSeed('42')).toBe(42);
    expect(parseSeed('c0ffee42d00d')).toBe('c0ffee42d00d');
    expect(parseSeed('007')).toBe('007');
    expect(await command.run(['--scenario', 'read-repair', '--seed', 'c0ffee42d00d', '--json'])).toBe(0);
    expect(JSON.parse(out.join('\n')).seed).toBe('c0ffee42d00d');
    expect(replayCommand('smoke', "it's")).toBe(`npx ringkv sim --scenario smoke --seed 'it'\\''s'`);
  });

  it('--seeds A..B: progress on stderr, a summary, exit 0 when the scenario meets its expectations', async () => {
    expect(await command.run(['--scenario', 'read-repair', '--seeds', '3..5'])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^scenario read-repair, seeds 3\.\.5: 3 runs in/);
    expect(text).toContain('expectations met on 3 of 3 seeds');
    expect(text).toMatch(/coverage: 'read repair sent' hit \d+ times/);
    expect(text).toContain('scenario met its expectations over the range');
    expect(err.join('')).toContain('3/3 seeds');
  });

  it('a must-fail scenario over a range reports its catch rate', async () => {
    expect(await command.run(['--scenario', 'eventual-not-linearizable', '--seeds', '1..3', '--json'])).toBe(0);
    const s = JSON.parse(out.join('\n'));
    expect(s.mustFail).toEqual([{ check: 'linearizable', caught: 3, rate: 1, required: 0.8, ok: true }]);
    expect(s.unmet).toEqual([]);
    expect(s.seedsPerMinute).toBeGreaterThan(0);
  });

  it('prints each seed that did not meet the expectations with its replay command and the checker\'s explanation', () => {
    const text = formatBatch({
      scenario: 'partition-heal',
      seeds: { from: 1, to: 10 },
      runs: 10,
      met: 9,
      errors: 0,
      mustFail: [],
      requiredMarks: [],
      events: 1000,
      wallMs: 1000,
      eventsPerSecond: 1000,
      seedsPerMinute: 600,
      unmet: [
        {
          seed: 7,
          replay: replayCommand('partition-heal', 7),
          error: null,
          checks: { linearizable: true, converged: true, lostWrites: 1, invalidReads: 0 },
          violations: [{ check: 'durability', key: 'default/q1', message: 'acknowledged #12 (p1 write ...) is lost: ...' }],
        },
      ],
      ok: false,
    });
    expect(text).toContain('expectations met on 9 of 10 seeds');
    expect(text).toContain('seed 7: failed: durability');
    expect(text).toContain('replay: npx ringkv sim --scenario partition-heal --seed 7');
    expect(text).toContain('[durability] default/q1: acknowledged #12');
    expect(text).toContain('scenario did NOT meet its expectations over the range');
  });

  it('--check-determinism compares with a run in a separate process', async () => {
    expect(await command.run(['--scenario', 'read-repair', '--seed', '9', '--check-determinism'])).toBe(0);
    expect(out.join('\n')).toMatch(/^deterministic: scenario read-repair, seed 9: trace hash [0-9a-f]{16} and \d+ events in this process and in a separate one/);
  }, 120_000);

  it('usage errors exit 2', async () => {
    expect(await main(['sim', '--seed', '1'])).toBe(2);
    expect(await main(['sim', '--scenario', 'nope', '--seed', '1'])).toBe(2);
    expect(await main(['sim', '--scenario', 'smoke'])).toBe(2);
    expect(await main(['sim', '--scenario', 'smoke', '--seed', '1', '--seeds', '1..2'])).toBe(2);
    expect(await main(['sim', '--scenario', 'smoke', '--seeds', '5..2'])).toBe(2);
    expect(() => parseSeedRange('1-5')).toThrow(/A\.\.B/);
    expect(err.join('\n')).toContain("unknown scenario 'nope'");
  });
});
