// Linearizability by exhaustive search over orders, written straight from the
// definition and nothing else: the reference the fast search is tested
// against. Exponential; for histories of a handful of operations.

import type { History, HistoryOp } from '../history.ts';

/**
 * Linearizability by exhaustive search over orders, from the definition: the
 * operations that must take effect (ok ones and failed cas, whose compare was
 * observed) are all placed, operations of unknown outcome may be placed or
 * not, failed read/write/delete never take effect; an operation that returned
 * strictly before another was called goes first.
 */
export function bruteForceLinearizable(history: History): boolean {
  const keys = [...new Set(history.map((o) => o.key))];
  return keys.every((k) => bruteForceKey(history.filter((o) => o.key === k)));
}

function bruteForceKey(all: HistoryOp[]): boolean {
  const ops = all.filter((o) => !(o.outcome === 'fail' && o.kind !== 'cas') && !(o.outcome === 'info' && o.kind === 'read'));
  const required = ops.map((o) => o.outcome !== 'info');
  const ret = ops.map((o) => (o.outcome === 'info' || o.ret === null ? Infinity : o.ret));
  const placed = ops.map(() => false);
  const step = (o: HistoryOp, s: string | null): { ok: boolean; s: string | null } => {
    switch (o.kind) {
      case 'read':
        return { ok: o.value === s, s };
      case 'write':
        return { ok: true, s: o.value };
      case 'delete':
        return { ok: true, s: null };
      case 'cas':
        if (o.outcome === 'fail') return { ok: s !== o.expected, s };
        if (o.outcome === 'ok') return { ok: s === o.expected, s: o.value };
        return { ok: true, s: s === o.expected ? o.value : s };
    }
  };
  const go = (s: string | null): boolean => {
    if (ops.every((_, i) => placed[i] || !required[i])) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      // Every operation that returned before this one's call must be placed already.
      if (ops.some((p, j) => !placed[j] && required[j] && ret[j] < ops[i]!.call)) continue;
      const r = step(ops[i]!, s);
      if (!r.ok) continue;
      placed[i] = true;
      const found = go(r.s);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return go(null);
}
