// Which files of an engine's directory nothing needs any more (names in
// manifest.ts). Deleting them needs no directory sync: a deletion a crash
// undoes leaves a file the next sweep deletes again.

import { parseFileName, type FileKind } from './manifest.ts';

export interface LiveSet {
  /** Tables of every live version, plus outputs of flushes and compactions in progress. */
  tables: ReadonlySet<number>;
  /** WALs below this are entirely in tables. */
  logNumber: number;
  /** WALs still being written or synced (the active one, the one being flushed). */
  openLogs: readonly number[];
  manifestNumber: number;
  /** A manifest switch in progress owns CURRENT.tmp and the next manifest. */
  manifestSwitching: boolean;
}

export function obsoleteFiles(names: readonly string[], live: LiveSet): Array<{ name: string; kind: FileKind; number: number }> {
  const out: Array<{ name: string; kind: FileKind; number: number }> = [];
  for (const name of names) {
    const p = parseFileName(name);
    if (p === undefined) continue;
    let obsolete: boolean;
    switch (p.kind) {
      case 'table':
        obsolete = !live.tables.has(p.number);
        break;
      case 'wal':
        obsolete = p.number < live.logNumber && !live.openLogs.includes(p.number);
        break;
      case 'manifest':
        obsolete = p.number < live.manifestNumber;
        break;
      case 'temp':
        obsolete = !live.manifestSwitching;
        break;
      case 'current':
        obsolete = false;
        break;
    }
    if (obsolete) out.push({ name, ...p });
  }
  return out;
}
