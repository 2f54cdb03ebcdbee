// Range scans across the ring. Keys are placed by hash, so any key range is
// spread over every node: the coordinator asks each node for its replica
// records of the keyspace in [from, end), up to `limit` each, and merges the
// sorted answers. A key counts only from its home replicas (what a node holds
// for other keys is ignored), merged as a read would; tombstoned and expired
// keys are skipped. Every range of the ring must have R home replicas among
// the nodes that answered, or the scan fails: a key nobody who answered
// holds would otherwise be silently missing.
//
// A node that returned a full page may hold more keys below the others'
// last keys, so only keys up to the smallest last key of a full page (the
// horizon) are final in a round; further rounds continue from there until
// the page is full or the range ends. The page ends with a resume token that
// names the last key examined:
//
//   token := base64url( msgpack [ 1, keyspace:str, after:bin ] )

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { keyToken } from '../ring/key_hash.ts';
import { compareKeys } from '../storage/entry.ts';
import { decodeMessage, encodeMessage } from '../../io/frame_codec.ts';
import { decodeBase64Url, encodeBase64Url } from '../versioning/base64url.ts';
import type { VersionedValue } from '../versioning/versioned_value.ts';
import { resolveRequirement } from './consistency.ts';
import { type CoordinatorDeps, Deadline } from './coordinator_deps.ts';
import type { KeyspaceConfig } from './keyspace.ts';
import { MAX_SCAN_LIMIT } from './messages.ts';
import { mapKey } from './record_writer.ts';
import { checkKeyspace, isErrorInfo, keyProblem } from './request_validation.ts';
import { RequestRun, once } from './request_run.ts';
import { type ErrorInfo, type ScanItem, type ScanRequest, type ScanResponse, errorInfo } from './requests.ts';
import { keySuccessor } from './storage_keys.ts';
import { mergeAll } from './version_set.ts';
import { readResponse } from './version_builders.ts';

/** Rounds one scan request may take before it returns a short page with a resume token. */
const MAX_ROUNDS = 8;
const TOKEN_VERSION = 1;

interface NodePage {
  records: { key: Uint8Array; value: VersionedValue }[];
  more: boolean;
}

export class ScanCoordinator {
  constructor(private readonly d: CoordinatorDeps) {}

  scan(req: ScanRequest, callback: (res: ScanResponse) => void): void {
    const done = once(callback, 'scan');
    const refuse = (error: ErrorInfo): void => done({ ok: false, error });
    const ks = checkKeyspace(this.d.keyspaces, req?.keyspace);
    if (isErrorInfo(ks)) return refuse(ks);
    if (!Number.isInteger(req.limit) || req.limit < 1 || req.limit > MAX_SCAN_LIMIT) return refuse(errorInfo('invalid', `limit must be an integer in 1..${MAX_SCAN_LIMIT}`, true));
    for (const bound of [req.start, req.end]) {
      if (bound === undefined) continue;
      const problem = keyProblem(bound, this.d.limits);
      if (problem !== null) return refuse({ ...problem, message: `scan bound: ${problem.message}` });
    }
    const requirement = resolveRequirement(req.consistency, 'r', ks.replicationFactor, ks.readConsistency);
    if (typeof requirement === 'string') return refuse(errorInfo('invalid', requirement, true));
    if (requirement.strong) return refuse(errorInfo('invalid', 'STRONG applies to single keys; scan with QUORUM or ALL', true));
    let from: Uint8Array | undefined = req.start?.slice();
    if (req.resumeToken !== undefined && req.resumeToken !== null) {
      const after = decodeResumeToken(req.resumeToken, ks.name);
      if (after === null) return refuse(errorInfo('invalid', 'resume token is malformed or belongs to another keyspace', true));
      from = keySuccessor(after);
    }
    const end = req.end?.slice();
    const deadline = new Deadline(this.d.env.clock, this.d.limits.requestTimeoutMs);
    const run = new RequestRun<ScanResponse>(this.d.env.timers, deadline, done, () => ({ ok: false, error: errorInfo('timeout', 'scan timed out', false) }));
    new ScanRun(this.d, run, ks, requirement.count, req.limit, end).round(from, [], 0);
  }
}

class ScanRun {
  constructor(
    private readonly d: CoordinatorDeps,
    private readonly run: RequestRun<ScanResponse>,
    private readonly ks: KeyspaceConfig,
    private readonly r: number,
    private readonly limit: number,
    private readonly end: Uint8Array | undefined,
  ) {}

  round(from: Uint8Array | undefined, items: ScanItem[], rounds: number): void {
    const nodes = this.d.topology().readRing.nodes();
    const pages = new Map<NodeId, NodePage>();
    let waiting = nodes.length;
    this.run.whenDeadline(() => this.finishRound(pages, nodes.length, from, items, rounds, true) ?? { ok: false, error: errorInfo('timeout', 'scan timed out', false) });
    for (const node of nodes) {
      const request = { t: 'scan', ks: this.ks.name, start: from ?? null, end: this.end ?? null, limit: this.limit, bulk: false } as const;
      this.d.rpc.call(node, request, this.run.deadline.remainingMs(), (reply) => {
        if (reply === null || this.run.finished) return;
        waiting--;
        if (reply.t === 'scan_ok') pages.set(node, { records: reply.items, more: reply.more });
        if (waiting > 0) return;
        const response = this.finishRound(pages, nodes.length, from, items, rounds, false);
        if (response !== null) this.run.finish(response);
      });
    }
  }

  /** Folds one round's pages into `items`; returns the response, or null after starting another round. */
  private finishRound(pages: Map<NodeId, NodePage>, asked: number, from: Uint8Array | undefined, items: ScanItem[], rounds: number, atDeadline: boolean): ScanResponse | null {
    const n = this.ks.replicationFactor;
    const responders = new Set(pages.keys());
    const ring = this.d.topology().readRing;
    for (const { range } of ring.ranges()) {
      const home = ring.preferenceList(range.end, n);
      const answered = home.filter((node) => responders.has(node)).length;
      if (answered < this.r) {
        this.d.mark('scan unavailable');
        return {
          ok: false,
          error: errorInfo(atDeadline ? 'timeout' : 'unavailable', `scan needs ${this.r} replicas of every range; a range had ${answered} of ${home.length} (${responders.size} of ${asked} nodes answered)`, false, {
            replied: answered,
            required: this.r,
          }),
        };
      }
    }
    let horizon: Uint8Array | null = null;
    for (const page of pages.values()) {
      if (!page.more) continue;
      const last = page.records[page.records.length - 1]!.key;
      if (horizon === null || compareKeys(last, horizon) < 0) horizon = last;
    }
    const byKey = new Map<string, { key: Uint8Array; versions: Map<NodeId, VersionedValue> }>();
    for (const [node, page] of pages) {
      for (const rec of page.records) {
        if (horizon !== null && compareKeys(rec.key, horizon) > 0) break;
        const k = mapKey(rec.key);
        let entry = byKey.get(k);
        if (entry === undefined) {
          entry = { key: rec.key, versions: new Map() };
          byKey.set(k, entry);
        }
        entry.versions.set(node, rec.value);
      }
    }
    const keys = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key));
    const now = this.d.env.clock.wallMs();
    for (const { key, versions } of keys) {
      const home = ring.preferenceList(keyToken(key), n);
      let merged: VersionedValue | null;
      try {
        merged = mergeAll(home.map((node) => versions.get(node) ?? null));
      } catch (err) {
        return { ok: false, error: errorInfo('internal', `replicas disagree on ${this.ks.name}: ${(err as Error).message}`, false) };
      }
      if (merged === null) continue;
      const read = readResponse(this.ks, merged, now);
      assert(read.ok, 'a merged version reads');
      if (read.found) items.push({ key: key.slice(), values: read.values, context: read.context });
      if (items.length === this.limit) {
        this.d.mark('scan page full');
        return { ok: true, items, resumeToken: encodeResumeToken(this.ks.name, key) };
      }
    }
    if (horizon === null) {
      this.d.mark('scan complete');
      return { ok: true, items, resumeToken: null };
    }
    if (atDeadline || rounds + 1 >= MAX_ROUNDS) {
      this.d.mark('scan page short');
      return { ok: true, items, resumeToken: encodeResumeToken(this.ks.name, horizon) };
    }
    assert(from === undefined || compareKeys(horizon, from) >= 0, 'scan rounds move forward');
    this.round(keySuccessor(horizon), items, rounds + 1);
    return null;
  }
}

export function encodeResumeToken(ks: string, after: Uint8Array): string {
  return encodeBase64Url(encodeMessage([TOKEN_VERSION, ks, after]));
}

/** The key a token resumes after, or null when the token is malformed or names another keyspace. */
export function decodeResumeToken(token: unknown, ks: string): Uint8Array | null {
  if (typeof token !== 'string' || token.length === 0 || token.length > 1_000_000) return null;
  const bytes = decodeBase64Url(token);
  if (bytes === null) return null;
  let raw: unknown;
  try {
    raw = decodeMessage(bytes);
  } catch {
    return null;
  }
  if (!Array.isArray(raw) || raw.length !== 3 || raw[0] !== TOKEN_VERSION || raw[1] !== ks || !(raw[2] instanceof Uint8Array)) return null;
  const after = raw[2] as Uint8Array;
  return after.length === 0 ? null : new Uint8Array(after);
}
