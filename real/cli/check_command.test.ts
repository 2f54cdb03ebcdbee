import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeHistory, type HistoryOp } from '../../sim/history.ts';
import { command } from './check_command.ts';
import { main } from './main.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const etcdDir = join(repoRoot, '..', 'shared', 'histories', 'porcupine-etcd');
const tmp = mkdtempSync(join(tmpdir(), 'ringkv-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

const verdicts = new Map(
  readFileSync(join(etcdDir, 'verdicts.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t') as [string, string]),
);

const w = (process: number, key: string, value: string, call: number, ret: number): HistoryOp => ({ process, key, kind: 'write', value, expected: null, call, ret, outcome: 'ok' });
const r = (process: number, key: string, value: string | null, call: number, ret: number): HistoryOp => ({ process, key, kind: 'read', value, expected: null, call, ret, outcome: 'ok' });

describe('ringkv check', () => {
  it('gives the exit code of Porcupine\'s verdict on every etcd history, with --json', async () => {
    for (const file of readdirSync(etcdDir).filter((f) => f.endsWith('.log')).sort()) {
      out = [];
      const code = await command.run(['--format', 'jepsen', join(etcdDir, file), '--json']);
      const illegal = verdicts.get(file) === 'illegal';
      expect(code, file).toBe(illegal ? 1 : 0);
      const report = JSON.parse(out.join('\n'));
      expect(report.verdict).toBe(illegal ? 'not-linearizable' : 'linearizable');
      if (illegal) {
        expect(report.violation.failingOp.index).toBeGreaterThan(0);
        expect(report.violation.longestLinearization.length).toBeGreaterThan(0);
        expect(report.violation.prefixEvents).toBeLessThanOrEqual(report.violation.totalEvents);
      }
    }
  });

  it('explains a violation in text and writes the HTML page', async () => {
    const html = join(tmp, 'e000.html');
    const code = await command.run(['--format', 'jepsen', join(etcdDir, 'etcd_000.log'), '--html', html]);
    expect(code).toBe(1);
    const text = out.join('\n');
    expect(text).toMatch(/^not linearizable: key "r"/);
    expect(text).toContain('shortest prefix that cannot be linearized');
    expect(text).toContain('#44 p11 read -> 2 [call 85, return 86]');
    expect(text).toContain('read returned 2 but the register held 0');
    expect(text).toContain(`wrote ${html}`);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('id="failing"');
    expect(page).toContain('#44 p11 read -&gt; 2 [call 85, return 86]');
  });

  it('reads ringkv history files, key by key', async () => {
    const file = join(tmp, 'stale.jsonl');
    writeFileSync(file, encodeHistory([w(0, 'a', '1', 0, 1), w(0, 'b', '1', 2, 3), w(0, 'b', '2', 4, 5), r(1, 'a', '1', 6, 7), r(2, 'b', '1', 6, 7)]));
    expect(await command.run(['--format', 'ringkv', file])).toBe(1);
    expect(out[0]!.split('\n')[0]).toBe('not linearizable: key "b" (3 operations, 6 events)');
    const good = join(tmp, 'good.jsonl');
    writeFileSync(good, encodeHistory([w(0, 'a', '1', 0, 1), r(1, 'a', '1', 2, 3)]));
    out = [];
    expect(await command.run(['--format', 'ringkv', good, '--html', join(tmp, 'good.html')])).toBe(0);
    expect(out[0]).toMatch(/^linearizable: 2 operations on 1 key\(s\)/);
    expect(readFileSync(join(tmp, 'good.html'), 'utf8')).toContain('1. write 1');
  });

  it('exits 2 with a one-line reason on unreadable input', async () => {
    const garbage = join(tmp, 'garbage.log');
    writeFileSync(garbage, 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nthis is not a history\n');
    const cases: [string[], RegExp][] = [
      [['--format', 'jepsen', garbage], /garbage.log: unreadable jepsen history: line 2: not a jepsen.util history event/],
      [['--format', 'ringkv', garbage], /unreadable ringkv history: line 1: not JSON/],
      [['--format', 'jepsen', join(tmp, 'missing.log')], /missing.log: cannot read: no such file/],
      [['--format', 'jepsen', tmp], /cannot read/],
    ];
    for (const [args, reason] of cases) {
      err = [];
      expect(await command.run(args)).toBe(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(reason);
      expect(err[0]).not.toContain('\n');
    }
  });

  it('exits 2 when the budget runs out', async () => {
    const code = await command.run(['--format', 'jepsen', join(etcdDir, 'etcd_002.log'), '--max-steps', '100', '--json']);
    expect(code).toBe(2);
    expect(err).toEqual([expect.stringMatching(/undecided: step budget of 100 exhausted/)]);
    expect(JSON.parse(out.join('\n')).verdict).toBe('unknown');
  });

  it('rejects operations the model does not have', async () => {
    const file = join(tmp, 'cas.jsonl');
    writeFileSync(file, encodeHistory([{ ...w(0, 'a', '1', 0, 1), kind: 'cas', expected: null }]));
    expect(await command.run(['--format', 'ringkv', file, '--model', 'register'])).toBe(2);
    expect(err[0]).toMatch(/the register model has no cas operation/);
  });

  it('usage errors exit 2; --help explains both formats', async () => {
    expect(await main(['check', join(etcdDir, 'etcd_000.log')])).toBe(2);
    expect(err.join('\n')).toMatch(/--format jepsen\|ringkv is required/);
    expect(await main(['check', '--format', 'xml', 'f'])).toBe(2);
    expect(await main(['check', '--format', 'jepsen'])).toBe(2);
    expect(await main(['check', '--help'])).toBe(0);
    const help = out.join('\n');
    expect(help).toContain('jepsen  Jepsen');
    expect(help).toContain('ringkv  the history files');
    expect(help).toContain('{"format":"ringkv-history","version":1}');
    expect(help).toMatch(/exit codes: 0 linearizable, 1 not linearizable, 2 unreadable input or budget/);
  });
});
