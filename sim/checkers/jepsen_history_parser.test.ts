import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryFormatError } from '../history.ts';
import { JEPSEN_KEY, parseJepsenHistory } from './jepsen_history_parser.ts';
import { checkLinearizability } from './linearizability.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const etcdDir = join(repoRoot, '..', 'shared', 'histories', 'porcupine-etcd');

function expectedVerdicts(): [string, string][] {
  return readFileSync(join(etcdDir, 'verdicts.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t') as [string, string]);
}

describe('Jepsen etcd histories (Porcupine test data) get Porcupine\'s verdicts', () => {
  const verdicts = expectedVerdicts();

  it('verdicts.tsv lists every log in the folder', () => {
    const logs = readdirSync(etcdDir).filter((f) => f.endsWith('.log')).sort();
    expect(verdicts.map(([f]) => f).sort()).toEqual(logs);
    expect(logs.length).toBeGreaterThan(50);
  });

  it.each(verdicts)('%s is %s', (file, expected) => {
    const history = parseJepsenHistory(readFileSync(join(etcdDir, file), 'utf8'));
    const result = checkLinearizability(history, { model: 'cas-register' });
    expect(result.verdict).toBe(expected === 'illegal' ? 'not-linearizable' : 'linearizable');
  });
});

describe('parseJepsenHistory', () => {
  const log = (...lines: string[]) => lines.map((l) => `INFO  jepsen.util - ${l}`).join('\n') + '\n';

  it('reads invoke/ok/fail/info of read, write and cas, with tabs or spaces', () => {
    const h = parseJepsenHistory(
      log(
        '0\t:invoke\t:read\tnil',
        '1   :invoke :write  3',
        '0\t:ok\t:read\tnil',
        '2\t:invoke\t:cas\t[3 4]',
        '1\t:ok\t:write\t3',
        '3\t:invoke\t:cas\t[1 2]',
        '2\t:fail\t:cas\t[3 4]',
        '3\t:info\t:cas\t:timed-out',
        '4\t:invoke\t:write\t0',
      ),
    );
    expect(h).toEqual([
      { process: 0, key: JEPSEN_KEY, kind: 'read', value: null, expected: null, call: 1, ret: 3, outcome: 'ok' },
      { process: 1, key: JEPSEN_KEY, kind: 'write', value: '3', expected: null, call: 2, ret: 5, outcome: 'ok' },
      { process: 2, key: JEPSEN_KEY, kind: 'cas', value: '4', expected: '3', call: 4, ret: 7, outcome: 'fail' },
      { process: 3, key: JEPSEN_KEY, kind: 'cas', value: '2', expected: '1', call: 6, ret: null, outcome: 'info' },
      { process: 4, key: JEPSEN_KEY, kind: 'write', value: '0', expected: null, call: 9, ret: null, outcome: 'info' },
    ]);
  });

  it('a read returns its value; a timed-out read observed nothing', () => {
    const h = parseJepsenHistory(log('0\t:invoke\t:read\tnil', '0\t:ok\t:read\t7', '1\t:invoke\t:read\tnil', '1\t:fail\t:read\t:timed-out'));
    expect(h.map((o) => [o.value, o.outcome])).toEqual([
      ['7', 'ok'],
      [null, 'info'],
    ]);
  });

  it.each([
    ['', /no jepsen.util history events/],
    ['hello world\n', /line 1: not a jepsen.util history event/],
    [log('0\t:ok\t:read\tnil'), /never invoked/],
    [log('0\t:invoke\t:read\tnil', '0\t:invoke\t:read\tnil'), /invokes again/],
    [log('0\t:invoke\t:write\tx'), /integer/],
    [log('0\t:invoke\t:cas\t[1]'), /\[from to\]/],
    [log('0\t:invoke\t:write\t1', '0\t:ok\t:write\t2'), /not the 1 invoked/],
    [log('0\t:invoke\t:write\t1', '0\t:ok\t:read\t1'), /completes a read/],
  ])('rejects malformed input %#', (text, message) => {
    expect(() => parseJepsenHistory(text)).toThrow(HistoryFormatError);
    expect(() => parseJepsenHistory(text)).toThrow(message);
  });
});
