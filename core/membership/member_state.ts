// What gossip knows about one node (Cassandra's EndpointState): a generation,
// a heartbeat, and versioned fields (status, tokens, load, application
// states).
//
// - generation: the node's incarnation. The node bumps it on every restart
//   (the caller persists it), so everything of an older generation is stale
//   at once, whatever its versions.
// - versions: one counter per (node, generation), shared by the heartbeat and
//   every field; each heartbeat and each field write takes the next value.
//   maxVersion, the highest version in the state, is what digests compare.
//
// Merge rules (mergeMember): a higher generation replaces the whole state; a
// lower one is ignored; within a generation the heartbeat is the higher one
// and each field keeps the write with the higher version (equal versions with
// different values, possible only when two removers write one removal
// generation, are ordered by value so that merging stays commutative).
//
// A delta carries every field written above its `from` version. A state is
// complete up to its maxVersion (it holds, for each field, the latest write at
// or below it), and a merge keeps that true only if the delta does not skip
// versions: a delta whose `from` is above the local maxVersion (a gap), or one
// that starts a new state without starting at 0, is refused. Applying it
// would raise the local maxVersion past writes never received, and digests
// would never ask for them again.

import { AssertionError } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';

/** Gossiped status. 'down' is not gossiped: it is a node's local view of a member its detector suspects. */
export type MemberStatus = 'joining' | 'normal' | 'leaving' | 'left' | 'removed';
export const MEMBER_STATUSES: readonly MemberStatus[] = ['joining', 'normal', 'leaving', 'left', 'removed'];
/** A member as one node sees it: its gossiped status, or down while it is suspected. */
export type NodeState = MemberStatus | 'down';

/** Members in these states are gone from the cluster; they are evicted after a while. */
export function isTerminalStatus(status: MemberStatus): boolean {
  return status === 'left' || status === 'removed';
}

export const MAX_NODE_ID_LENGTH = 255;
export const MAX_TOKENS_PER_MEMBER = 4096;
export const MAX_APP_FIELDS = 256;
export const MAX_APP_KEY_LENGTH = 64;
export const MAX_APP_VALUE_LENGTH = 4096;
/** Tokens are positions on a ring of 2^64. */
export const TOKEN_LIMIT = 1n << 64n;

export function isValidNodeId(id: unknown): id is NodeId {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_NODE_ID_LENGTH;
}

export function isValidToken(t: bigint): boolean {
  return t >= 0n && t < TOKEN_LIMIT;
}

export function isValidAppKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= MAX_APP_KEY_LENGTH;
}

export function isValidAppValue(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_APP_VALUE_LENGTH;
}

export function isVersion(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export interface Versioned<T> {
  readonly value: T;
  readonly version: number;
}

export interface AppField {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}

/** Generation and highest version of one member: what a SYN tells about it. */
export interface MemberDigest {
  readonly nodeId: NodeId;
  readonly generation: number;
  readonly maxVersion: number;
}

/** The writes of one member above `from` (from = 0: its whole state). The heartbeat is always carried. */
export interface MemberDelta {
  readonly nodeId: NodeId;
  readonly generation: number;
  readonly from: number;
  readonly heartbeat: number;
  readonly status?: Versioned<MemberStatus>;
  readonly tokens?: Versioned<readonly bigint[]>;
  readonly load?: Versioned<number>;
  readonly app: readonly AppField[];
}

const NO_APP_FIELDS: readonly AppField[] = Object.freeze([]);

export interface InitialFields {
  status: MemberStatus;
  tokens: readonly bigint[];
  load: number;
  app?: ReadonlyMap<string, string>;
}

function checkTokens(tokens: readonly bigint[]): void {
  if (!(tokens.length <= MAX_TOKENS_PER_MEMBER)) throw new AssertionError(`${tokens.length} tokens (at most ${MAX_TOKENS_PER_MEMBER})`);
  for (const t of tokens) if (!(typeof t === 'bigint' && isValidToken(t))) throw new AssertionError(`token ${String(t)} outside [0, 2^64)`);
}

/**
 * A checked, frozen copy of `tokens`, shared by every state built from an
 * array with the same tokens (a node reopened from the same configuration
 * gets the same array back), so the per-array caches of the gossip writer
 * and the topology hit instead of printing and sorting the tokens again.
 */
const tokenCopies = new WeakMap<readonly bigint[], readonly bigint[]>();
function tokenList(tokens: readonly bigint[]): readonly bigint[] {
  const known = tokenCopies.get(tokens);
  if (known !== undefined && sameTokens(known, tokens)) return known; // the caller may have changed its array since
  checkTokens(tokens);
  const list = Object.freeze([...tokens]);
  tokenCopies.set(tokens, list);
  tokenCopies.set(list, list);
  return list;
}

function checkLoad(load: number): void {
  if (!(Number.isFinite(load) && load >= 0)) throw new AssertionError(`load ${load}`);
}

const tokensKey = (tokens: readonly bigint[]): string => tokens.join(',');

function sameTokens(a: readonly bigint[], b: readonly bigint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `incoming` should replace `current`: higher version, or equal version and larger value. */
function wins<T>(incoming: Versioned<T>, current: Versioned<T>, order: (a: T, b: T) => number): boolean {
  if (incoming.version !== current.version) return incoming.version > current.version;
  return order(incoming.value, current.value) > 0;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareNumbers = (a: number, b: number): number => a - b;
const compareTokens = (a: readonly bigint[], b: readonly bigint[]): number => compareStrings(tokensKey(a), tokensKey(b));

export class MemberState {
  private gen: number;
  private beat: number;
  private statusField: Versioned<MemberStatus>;
  private tokensField: Versioned<readonly bigint[]>;
  private loadField: Versioned<number>;
  private readonly appFields = new Map<string, Versioned<string>>();
  private max: number;
  /** Highest version of any field but the heartbeat: a delta above it carries the heartbeat alone. */
  private fieldMax: number;

  private constructor(
    readonly nodeId: NodeId,
    generation: number,
    heartbeat: number,
    status: Versioned<MemberStatus>,
    tokens: Versioned<readonly bigint[]>,
    load: Versioned<number>,
  ) {
    if (!isValidNodeId(nodeId)) throw new AssertionError(`node id ${JSON.stringify(nodeId)}`);
    if (!isVersion(generation)) throw new AssertionError(`generation ${generation}`);
    if (!isVersion(heartbeat)) throw new AssertionError(`heartbeat ${heartbeat}`);
    this.gen = generation;
    this.beat = heartbeat;
    this.statusField = status;
    this.tokensField = tokens;
    this.loadField = load;
    this.fieldMax = Math.max(status.version, tokens.version, load.version);
    this.max = Math.max(heartbeat, this.fieldMax);
  }

  /** A node's own state at the start of a generation: fields at versions 1..n, heartbeat after them. */
  static initial(nodeId: NodeId, generation: number, fields: InitialFields): MemberState {
    if (!MEMBER_STATUSES.includes(fields.status)) throw new AssertionError(`status ${String(fields.status)}`);
    checkLoad(fields.load);
    const state = new MemberState(nodeId, generation, 0, { value: fields.status, version: 1 }, { value: tokenList(fields.tokens), version: 2 }, { value: fields.load, version: 3 });
    for (const [key, value] of fields.app ?? []) state.putApp(key, value);
    state.heartbeatTick();
    return state;
  }

  /** A state built from a delta that starts at version 0; null if the delta is not a whole state. */
  static fromDelta(delta: MemberDelta): MemberState | null {
    if (delta.from !== 0 || delta.status === undefined || delta.tokens === undefined || delta.load === undefined) return null;
    const state = new MemberState(delta.nodeId, delta.generation, delta.heartbeat, delta.status, delta.tokens, delta.load);
    for (const f of delta.app) state.setApp(f.key, { value: f.value, version: f.version });
    return state;
  }

  get generation(): number {
    return this.gen;
  }

  get heartbeat(): number {
    return this.beat;
  }

  get maxVersion(): number {
    return this.max;
  }

  get status(): MemberStatus {
    return this.statusField.value;
  }

  get tokens(): readonly bigint[] {
    return this.tokensField.value;
  }

  get load(): number {
    return this.loadField.value;
  }

  appState(key: string): string | undefined {
    return this.appFields.get(key)?.value;
  }

  /** Application states, sorted by key. */
  appStates(): [string, string][] {
    return [...this.appFields].map(([k, f]): [string, string] => [k, f.value]).sort((a, b) => compareStrings(a[0], b[0]));
  }

  digest(): MemberDigest {
    return { nodeId: this.nodeId, generation: this.gen, maxVersion: this.max };
  }

  /** Every write above `version`, plus the heartbeat. */
  deltaAbove(version: number): MemberDelta {
    if (!isVersion(version)) throw new AssertionError(`delta above ${version}`);
    // Most deltas, once a cluster has settled, are a heartbeat and nothing else.
    if (version >= this.fieldMax) return { nodeId: this.nodeId, generation: this.gen, from: version, heartbeat: this.beat, app: NO_APP_FIELDS };
    const app: AppField[] = [];
    for (const [key, f] of this.appFields) if (f.version > version) app.push({ key, value: f.value, version: f.version });
    return {
      nodeId: this.nodeId,
      generation: this.gen,
      from: version,
      heartbeat: this.beat,
      ...(this.statusField.version > version ? { status: this.statusField } : {}),
      ...(this.tokensField.version > version ? { tokens: this.tokensField } : {}),
      ...(this.loadField.version > version ? { load: this.loadField } : {}),
      app,
    };
  }

  /** A copy that shares no mutable part with this state. */
  clone(): MemberState {
    const copy = new MemberState(this.nodeId, this.gen, this.beat, this.statusField, this.tokensField, this.loadField);
    for (const [key, f] of this.appFields) copy.setApp(key, f);
    return copy;
  }

  /** Same generation, heartbeat and fields at the same versions. */
  equals(other: MemberState): boolean {
    if (this.nodeId !== other.nodeId || this.gen !== other.gen || this.beat !== other.beat || this.max !== other.max) return false;
    if (this.statusField.version !== other.statusField.version || this.statusField.value !== other.statusField.value) return false;
    if (this.tokensField.version !== other.tokensField.version || !sameTokens(this.tokensField.value, other.tokensField.value)) return false;
    if (this.loadField.version !== other.loadField.version || this.loadField.value !== other.loadField.value) return false;
    if (this.appFields.size !== other.appFields.size) return false;
    for (const [key, f] of this.appFields) {
      const g = other.appFields.get(key);
      if (g === undefined || g.version !== f.version || g.value !== f.value) return false;
    }
    return true;
  }

  // ---- writes by the node itself (each takes the next version) ----

  heartbeatTick(): void {
    this.beat = this.nextVersion();
  }

  putStatus(status: MemberStatus): void {
    if (!MEMBER_STATUSES.includes(status)) throw new AssertionError(`status ${String(status)}`);
    this.statusField = { value: status, version: this.nextFieldVersion() };
  }

  putTokens(tokens: readonly bigint[]): void {
    this.tokensField = { value: tokenList(tokens), version: this.nextFieldVersion() };
  }

  putLoad(load: number): void {
    checkLoad(load);
    this.loadField = { value: load, version: this.nextFieldVersion() };
  }

  putApp(key: string, value: string): void {
    if (!isValidAppKey(key)) throw new AssertionError(`application state key ${JSON.stringify(key)}`);
    if (!isValidAppValue(value)) throw new AssertionError(`application state ${key}: value over ${MAX_APP_VALUE_LENGTH} chars`);
    if (!(this.appFields.has(key) || this.appFields.size < MAX_APP_FIELDS)) throw new AssertionError(`more than ${MAX_APP_FIELDS} application states`);
    this.setApp(key, { value, version: this.nextFieldVersion() });
  }

  // ---- merging a delta from gossip ----

  /** Applies a delta of the same generation; the caller has checked generation and gap. */
  applySameGeneration(delta: MemberDelta): { heartbeatAdvanced: boolean; statusChanged: boolean; tokensChanged: boolean; appChanged: boolean; changed: boolean } {
    if (!(delta.nodeId === this.nodeId && delta.generation === this.gen)) throw new AssertionError(`delta of ${delta.nodeId}/${delta.generation} applied to ${this.nodeId}/${this.gen}`);
    if (!(delta.from <= this.max)) throw new AssertionError(`delta of ${this.nodeId} from ${delta.from} skips versions above ${this.max}`);
    let changed = false;
    const heartbeatAdvanced = delta.heartbeat > this.beat;
    if (heartbeatAdvanced) {
      this.beat = delta.heartbeat;
      changed = true;
    }
    let statusChanged = false;
    if (delta.status !== undefined && wins(delta.status, this.statusField, compareStrings)) {
      statusChanged = delta.status.value !== this.statusField.value;
      this.statusField = delta.status;
      changed = true;
    }
    let tokensChanged = false;
    if (delta.tokens !== undefined && wins(delta.tokens, this.tokensField, compareTokens)) {
      tokensChanged = !sameTokens(delta.tokens.value, this.tokensField.value);
      this.tokensField = delta.tokens;
      changed = true;
    }
    if (delta.load !== undefined && wins(delta.load, this.loadField, compareNumbers)) {
      this.loadField = delta.load;
      changed = true;
    }
    let appChanged = false;
    for (const f of delta.app) {
      const current = this.appFields.get(f.key);
      const incoming = { value: f.value, version: f.version };
      if (current === undefined || wins(incoming, current, compareStrings)) {
        if (current === undefined || current.value !== f.value) appChanged = true;
        this.setApp(f.key, incoming);
        changed = true;
      }
    }
    this.fieldMax = Math.max(this.fieldMax, this.statusField.version, this.tokensField.version, this.loadField.version);
    this.max = Math.max(this.max, this.beat, this.fieldMax);
    return { heartbeatAdvanced, statusChanged, tokensChanged, appChanged, changed };
  }

  private setApp(key: string, field: Versioned<string>): void {
    this.appFields.set(key, field);
    if (field.version > this.fieldMax) this.fieldMax = field.version;
    if (field.version > this.max) this.max = field.version;
  }

  private nextVersion(): number {
    if (!(this.max < Number.MAX_SAFE_INTEGER)) throw new AssertionError(`versions of ${this.nodeId} exhausted`);
    this.max += 1;
    return this.max;
  }

  private nextFieldVersion(): number {
    this.fieldMax = this.nextVersion();
    return this.fieldMax;
  }
}

export type MergeResult =
  | { readonly kind: 'ignored'; readonly reason: 'stale' | 'gap' | 'incomplete' }
  | {
      readonly kind: 'created' | 'replaced' | 'updated' | 'unchanged';
      readonly state: MemberState;
      readonly heartbeatAdvanced: boolean;
      readonly statusChanged: boolean;
      readonly tokensChanged: boolean;
      /** An application state appeared or took another value. */
      readonly appChanged: boolean;
    };

/**
 * Merges a delta into what is known of its member (undefined: nothing).
 * 'created' and 'replaced' return a new state; 'updated' and 'unchanged'
 * return `local`, changed in place.
 */
export function mergeMember(local: MemberState | undefined, delta: MemberDelta): MergeResult {
  if (!(local === undefined || local.nodeId === delta.nodeId)) throw new AssertionError(`delta of ${delta.nodeId} merged into ${local?.nodeId}`);
  if (local === undefined || delta.generation > local.generation) {
    const state = MemberState.fromDelta(delta);
    if (state === null) return { kind: 'ignored', reason: 'incomplete' };
    if (local === undefined) return { kind: 'created', state, heartbeatAdvanced: false, statusChanged: false, tokensChanged: false, appChanged: false };
    return {
      kind: 'replaced',
      state,
      heartbeatAdvanced: true,
      statusChanged: state.status !== local.status,
      tokensChanged: !sameTokens(state.tokens, local.tokens),
      appChanged: true,
    };
  }
  if (delta.generation < local.generation) return { kind: 'ignored', reason: 'stale' };
  if (delta.from > local.maxVersion) return { kind: 'ignored', reason: 'gap' };
  const r = local.applySameGeneration(delta);
  return { kind: r.changed ? 'updated' : 'unchanged', state: local, heartbeatAdvanced: r.heartbeatAdvanced, statusChanged: r.statusChanged, tokensChanged: r.tokensChanged, appChanged: r.appChanged };
}

/**
 * The state a remover gossips for a dead member (Cassandra's removenode): a
 * generation above the member's, so it wins everywhere at once, holding its
 * tokens and status 'removed'. Two removers of the same member build the same
 * state. A member that is in fact alive refutes it with a higher generation.
 */
export function removalState(member: MemberState): MemberState {
  return MemberState.initial(member.nodeId, member.generation + 1, { status: 'removed', tokens: member.tokens, load: 0 });
}
