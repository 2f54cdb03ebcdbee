// The history of client operations that a run produced, as the checkers read
// it, and the `ringkv` history file format the simulator writes.
//
// File format (JSON lines, UTF-8). The first line is the header
//   {"format":"ringkv-history","version":1}
// and every following non-empty line is one operation, written once it has
// completed (or been given up on):
//   {"process":3,"key":"k1","kind":"write","value":"v7","call":1200,"return":1350,"outcome":"ok"}
//   {"process":1,"key":"k1","kind":"cas","expected":"v7","value":"v8","call":1300,"return":null,"outcome":"info"}
// Fields:
//   process   integer >= 0: the client process; a process issues one operation
//             at a time (its ok/fail operations never overlap in time).
//   key       string.
//   kind      "read" | "write" | "delete" | "cas".
//   value     read: the value read (null when the key was absent; null for a
//             read whose outcome is not ok); write: the value written (string);
//             delete: null; cas: the value to store (string).
//   expected  cas only: the value compared against (null means "only if absent").
//   call      number: when the client issued the operation.
//   return    number >= call: when the client got the answer; null only for
//             "info" (it never got one).
//   outcome   "ok": it happened, with the recorded result.
//             "fail": it did not change the register. For read/write/delete it
//               definitely did not happen and observed nothing. For cas it is
//               etcd's failed compare: the register did not hold `expected` at
//               the moment it ran. (A cas that failed for any other reason must
//               be recorded as "info".)
//             "info": unknown (timed out, client crashed): it may take effect
//               at any time after its call, or never; its result is unknown.
// Times are in any unit; only their order matters. Equal times count as
// overlapping (a call at t is concurrent with a return at t).

export type OpKind = 'read' | 'write' | 'delete' | 'cas';
export type Outcome = 'ok' | 'fail' | 'info';

export interface HistoryOp {
  process: number;
  key: string;
  kind: OpKind;
  /** See the format above: the result of a read, the argument of write/cas. */
  value: string | null;
  /** cas only (null otherwise): the value compared against. */
  expected: string | null;
  call: number;
  /** null only when outcome is 'info' and no answer ever came. */
  ret: number | null;
  outcome: Outcome;
}

export type History = HistoryOp[];

export const HISTORY_HEADER = { format: 'ringkv-history', version: 1 } as const;

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

const KINDS: ReadonlySet<string> = new Set(['read', 'write', 'delete', 'cas']);
const OUTCOMES: ReadonlySet<string> = new Set(['ok', 'fail', 'info']);

/** The time by which an operation certainly took effect or never will. */
export function effectiveReturn(op: HistoryOp): number {
  return op.outcome === 'info' || op.ret === null ? Infinity : op.ret;
}

/** Why `op` is not a well-formed operation, or null. */
export function invalidOpReason(op: HistoryOp): string | null {
  if (!Number.isSafeInteger(op.process) || op.process < 0) return 'process must be an integer >= 0';
  if (typeof op.key !== 'string') return 'key must be a string';
  if (!KINDS.has(op.kind)) return `unknown kind '${String(op.kind)}'`;
  if (!OUTCOMES.has(op.outcome)) return `unknown outcome '${String(op.outcome)}'`;
  if (typeof op.call !== 'number' || !Number.isFinite(op.call)) return 'call must be a finite number';
  if (op.ret === null) {
    if (op.outcome !== 'info') return 'return may be null only for outcome info';
  } else if (typeof op.ret !== 'number' || !Number.isFinite(op.ret)) {
    return 'return must be a finite number or null';
  } else if (op.ret < op.call) {
    return 'return is before call';
  }
  if (op.value !== null && typeof op.value !== 'string') return 'value must be a string or null';
  if (op.expected !== null && typeof op.expected !== 'string') return 'expected must be a string or null';
  if (op.kind !== 'cas' && op.expected !== null) return `expected is only for cas, not ${op.kind}`;
  switch (op.kind) {
    case 'read':
      if (op.outcome !== 'ok' && op.value !== null) return 'a read that did not return ok has no value';
      break;
    case 'write':
    case 'cas':
      if (op.value === null) return `${op.kind} needs a value`;
      break;
    case 'delete':
      if (op.value !== null) return 'delete takes no value';
      break;
  }
  return null;
}

/**
 * Checks every operation and that each process's completed (ok/fail)
 * operations do not overlap; throws HistoryFormatError naming the first
 * offending operation (1-based, in history order).
 */
export function validateHistory(history: History): void {
  const lastReturn = new Map<number, { ret: number; index: number }>();
  const order = history
    .map((op, index) => ({ op, index }))
    .filter(({ op }) => op.outcome !== 'info')
    .sort((a, b) => a.op.call - b.op.call || a.index - b.index);
  history.forEach((op, i) => {
    const reason = invalidOpReason(op);
    if (reason !== null) throw new HistoryFormatError(`operation ${i + 1}: ${reason}`);
  });
  for (const { op, index } of order) {
    const prev = lastReturn.get(op.process);
    if (prev !== undefined && op.call < prev.ret) {
      throw new HistoryFormatError(
        `operation ${index + 1}: process ${op.process} calls at ${op.call} before its operation ${prev.index + 1} returned at ${prev.ret}`,
      );
    }
    lastReturn.set(op.process, { ret: op.ret!, index });
  }
}

/** One operation as its file line (without the newline). */
export function encodeHistoryOp(op: HistoryOp): string {
  const o: Record<string, unknown> = { process: op.process, key: op.key, kind: op.kind };
  if (op.kind === 'cas') o.expected = op.expected;
  o.value = op.value;
  o.call = op.call;
  o.return = op.ret;
  o.outcome = op.outcome;
  return JSON.stringify(o);
}

/** A whole history file: header line, one line per operation, final newline. */
export function encodeHistory(history: History): string {
  return [JSON.stringify(HISTORY_HEADER), ...history.map(encodeHistoryOp)].join('\n') + '\n';
}

function field(obj: Record<string, unknown>, name: string, line: number): unknown {
  if (!(name in obj)) throw new HistoryFormatError(`line ${line}: missing field '${name}'`);
  return obj[name];
}

/** Parses a history file; throws HistoryFormatError with the line number on any defect. */
export function decodeHistory(text: string): History {
  const lines = text.split('\n');
  let headerSeen = false;
  const history: History = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const lineNo = i + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new HistoryFormatError(`line ${lineNo}: not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new HistoryFormatError(`line ${lineNo}: not a JSON object`);
    }
    const obj = parsed as Record<string, unknown>;
    if (!headerSeen) {
      if (obj.format !== HISTORY_HEADER.format) {
        throw new HistoryFormatError(`line ${lineNo}: expected the header {"format":"ringkv-history","version":1}`);
      }
      if (obj.version !== HISTORY_HEADER.version) {
        throw new HistoryFormatError(`line ${lineNo}: unsupported ringkv-history version ${String(obj.version)}`);
      }
      headerSeen = true;
      continue;
    }
    const kind = field(obj, 'kind', lineNo);
    const op = {
      process: field(obj, 'process', lineNo),
      key: field(obj, 'key', lineNo),
      kind,
      value: field(obj, 'value', lineNo),
      expected: kind === 'cas' ? field(obj, 'expected', lineNo) : (obj.expected ?? null),
      call: field(obj, 'call', lineNo),
      ret: field(obj, 'return', lineNo),
      outcome: field(obj, 'outcome', lineNo),
    } as HistoryOp;
    const reason = invalidOpReason(op);
    if (reason !== null) throw new HistoryFormatError(`line ${lineNo}: ${reason}`);
    history.push(op);
  }
  if (!headerSeen) throw new HistoryFormatError('empty file: no ringkv-history header');
  validateHistory(history);
  return history;
}

/** A short readable form of one operation, e.g. `write 3`, `read -> nil`, `cas 1->2 failed`. */
export function describeOp(op: HistoryOp): string {
  const v = (s: string | null) => (s === null ? 'nil' : s);
  let text: string;
  switch (op.kind) {
    case 'read':
      text = op.outcome === 'ok' ? `read -> ${v(op.value)}` : 'read';
      break;
    case 'write':
      text = `write ${v(op.value)}`;
      break;
    case 'delete':
      text = 'delete';
      break;
    case 'cas':
      text = `cas ${v(op.expected)}->${v(op.value)}`;
      break;
  }
  if (op.outcome === 'fail') text += op.kind === 'cas' ? ' (compare failed)' : ' (failed)';
  if (op.outcome === 'info') text += ' (unknown)';
  return text;
}
