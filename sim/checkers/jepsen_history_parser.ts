// Reads Jepsen's etcd register logs (Porcupine's test data) into a History.
//
// One event a line: `INFO  jepsen.util - PROC  :TYPE  :F  VALUE`, fields
// separated by tabs or spaces. TYPE is invoke/ok/fail/info, F is
// read/write/cas, VALUE is `nil`, an integer, `[from to]` or `:timed-out`.
// A log has no clock, so an event's time is its line number. An operation
// still pending at the end of the log, or completed with :info, has an
// unknown outcome and never returns. All operations are on one register,
// named by JEPSEN_KEY.

import { type History, HistoryFormatError, type HistoryOp, type OpKind } from '../history.ts';

export const JEPSEN_KEY = 'r';

const LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*?)\s*$/;
const CAS_ARGS = /^\[\s*(-?\d+)\s+(-?\d+)\s*\]$/;
const INT = /^-?\d+$/;

type Pending = { index: number; line: number };

/** Parses a whole log; throws HistoryFormatError naming the first bad line. */
export function parseJepsenHistory(text: string): History {
  const history: History = [];
  const pending = new Map<number, Pending>();
  const lines = text.split('\n');
  let events = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const lineNo = i + 1;
    const bad = (why: string) => new HistoryFormatError(`line ${lineNo}: ${why}: ${raw.slice(0, 80)}`);
    const m = LINE.exec(raw);
    if (m === null) throw bad('not a jepsen.util history event');
    events++;
    const process = Number(m[1]);
    const type = m[2]!;
    const kind = m[3] as OpKind;
    const text = m[4]!;
    if (!Number.isSafeInteger(process)) throw bad('process id out of range');
    const open = pending.get(process);
    if (type === 'invoke') {
      if (open !== undefined) throw bad(`process ${process} invokes again before its operation on line ${open.line} completed`);
      const op: HistoryOp = { process, key: JEPSEN_KEY, kind, value: null, expected: null, call: lineNo, ret: null, outcome: 'info' };
      if (kind === 'read') {
        if (text !== 'nil') throw bad('a read is invoked with nil');
      } else if (kind === 'write') {
        if (!INT.test(text)) throw bad('a write needs an integer');
        op.value = text;
      } else {
        const cas = CAS_ARGS.exec(text);
        if (cas === null) throw bad('a cas needs [from to]');
        op.expected = String(Number(cas[1]));
        op.value = String(Number(cas[2]));
      }
      if (op.value !== null && kind === 'write') op.value = String(Number(op.value));
      pending.set(process, { index: history.length, line: lineNo });
      history.push(op);
      continue;
    }
    if (open === undefined) throw bad(`process ${process} completes an operation it never invoked`);
    const op = history[open.index]!;
    if (op.kind !== kind) throw bad(`completes a ${kind} but line ${open.line} invoked a ${op.kind}`);
    pending.delete(process);
    if (type === 'info' || text === ':timed-out') {
      // Unknown outcome: the operation stays open for ever.
      op.outcome = 'info';
      op.ret = null;
      op.value = kind === 'read' ? null : op.value;
      continue;
    }
    op.ret = lineNo;
    op.outcome = type === 'ok' ? 'ok' : 'fail';
    if (kind === 'read') {
      if (type === 'fail') continue;
      if (text !== 'nil' && !INT.test(text)) throw bad('a read returns nil or an integer');
      op.value = text === 'nil' ? null : String(Number(text));
    } else if (kind === 'write') {
      if (!INT.test(text) || String(Number(text)) !== op.value) throw bad(`the write completed is not the ${op.value} invoked`);
    } else {
      const cas = CAS_ARGS.exec(text);
      if (cas === null || String(Number(cas[1])) !== op.expected || String(Number(cas[2])) !== op.value) {
        throw bad(`the cas completed is not the [${op.expected} ${op.value}] invoked`);
      }
    }
  }
  if (events === 0) throw new HistoryFormatError('no jepsen.util history events');
  return history;
}
