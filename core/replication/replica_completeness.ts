// Whether this node's replica records still hold every write it acknowledged.
//
// The engine acknowledges a write only once it is synced, but bits rot at
// rest: a log damaged in the middle replays only up to the damage, and a
// table found corrupt is quarantined, both leaving older versions (or none)
// where newer acknowledged ones were. Such a replica is still useful, but a
// STRONG quorum counting it could miss a completed write and answer stale
// (strong.ts). So once the node has reason to think it lost writes it says so
// in every read reply, for the rest of its life: the flag is made durable
// before the node serves anything (the damaged log is gone after recovery,
// so the evidence would not survive the next restart) and is never cleared;
// a full rebuild from the other replicas would be what clears it.
//
// The price: rot in a log's last records cannot be told from the torn tail
// of a crash during an unsynced append, so any tail dropped at open flags the
// node too, and a node flagged is one fewer voter for STRONG on its keys
// (with N=3, STRONG on them then needs both other home replicas).

import type { RecoveryStats } from '../storage/engine_options.ts';
import { CorruptionError } from '../storage/errors.ts';

/** Why a freshly opened engine may lack acknowledged writes, or null. */
export function lossAtOpen(recovery: RecoveryStats, fileNames: readonly string[], quarantinedTables: number): string | null {
  if (recovery.walLogsDamaged > 0) return `${recovery.walLogsDamaged} log(s) damaged before their end`;
  // A damaged tail is what a crash during an unsynced append leaves, but also
  // what bit rot in the last synced records looks like: the two cannot be told
  // apart, so a tail dropped at open counts as loss.
  if (recovery.walBytesDropped > 0) return `${recovery.walBytesDropped} bytes of log tail dropped`;
  if (quarantinedTables > 0) return `${quarantinedTables} table(s) quarantined`;
  // A table quarantined in an earlier life leaves its file renamed, and nothing else.
  const retired = fileNames.filter((n) => n.endsWith('.corrupt')).length;
  if (retired > 0) return `${retired} quarantined table file(s) on disk`;
  return null;
}

/**
 * Whether a node opens incomplete, and whether it must (re)write the durable
 * flag before serving. `readFlag` reads the flag (true: stored) and may throw
 * CorruptionError: then the flag may be what rotted, so the node counts as
 * incomplete and writes the flag anew; the damaged record can be gone by the
 * next open (compacted away), and with it the only evidence.
 */
export function completenessAtOpen(readFlag: () => boolean, lossAtThisOpen: string | null): { incomplete: boolean; writeFlag: boolean } {
  let stored = false;
  let unreadable = false;
  try {
    stored = readFlag();
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err;
    unreadable = true;
  }
  const incomplete = stored || unreadable || lossAtThisOpen !== null;
  return { incomplete, writeFlag: incomplete && !stored };
}

export class ReplicaCompleteness {
  private incomplete: boolean;

  constructor(
    /** The durable flag or the evidence at open said writes may be lost. */
    incompleteAtOpen: boolean,
    /** Whether the engine has lost data since open (a table quarantined); asked before every answer until it says yes. */
    private readonly lostSinceOpen: () => boolean,
    /** Makes the flag durable. */
    private readonly persist: (cb: (err: Error | null) => void) => void,
    private readonly mark: (what: string) => void,
  ) {
    this.incomplete = incompleteAtOpen;
  }

  /** False once acknowledged writes may be missing here; then it stays false. */
  get complete(): boolean {
    if (!this.incomplete && this.lostSinceOpen()) {
      this.incomplete = true;
      this.mark('replica may have lost writes');
      // The quarantined file stays on disk as evidence until the flag is durable.
      this.persist(() => {});
    }
    return !this.incomplete;
  }
}
