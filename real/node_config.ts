// The configuration of one ringkv node process: what `ringkv start` reads
// from `--config FILE` (JSON) and its flags, validated into everything the
// process needs, core/node.ts's NodeConfig included.
//
// The file (every field optional unless marked; flags override it):
//
//   {
//     "nodeId": "n1",                          required
//     "cluster": "ringkv",                     names the cluster in the peer handshake
//     "dataDir": "./data/n1",                  required; relative to the config file
//     "http": { "host": "127.0.0.1", "port": 8001, "apiTokenFile": "...", "maxInflightRequests": 1024 },
//     "peer": { "host": "127.0.0.1", "port": 9001 },
//     "secretFile": "./data/cluster.secret",   required (or env RINGKV_CLUSTER_SECRET): hex, >= 16 bytes
//     "members": [ { "id": "n1", "address": "127.0.0.1:9001", "vnodes": 32, "tokens": ["123", ...] },
//                  { "id": "n4", "address": "127.0.0.1:9004", "joining": true }, ... ],
//     "join": false,                           this node joins a running cluster (below)
//     "replaces": "n2",                        with join: take over the tokens of this dead member
//     "seeds": ["n1", "n2"],                   gossip starts from these members (default: every member)
//     "gossipIntervalMs": 1000, "phiThreshold": 8,
//     "vnodes": 32,
//     "keyspaces": [ { "name": "default", "replicationFactor": 3, "readConsistency": "QUORUM",
//                      "writeConsistency": "QUORUM", "conflictMode": "lww", "defaultTtlMs": 0 } ],
//     "durability": "group-commit" | "periodic",  "syncIntervalMs": 100,
//     "requestTimeoutMs": 2000, "hintWindowMs": 10800000, "maxHintsPerTarget": 100000,
//     "hintReplayBytesPerSec": 1048576, "maxKeyBytes": 1024, "maxValueBytes": 1048576,
//     "engine": { "compaction": "leveled", "memtableBytes": 16777216, "memtableJitter": 0.25, ... },
//     "log": { "level": "info", "file": null },
//     "shutdownTimeoutMs": 10000
//   }
//
// `members` lists the nodes this one starts from (itself included), with
// their peer addresses. Nodes not listed are reached all the same once they
// prove the cluster secret: a node's handshake names its own address, and
// gossip spreads every member's (real/tcp_network.ts). A member's tokens are given, or derived from its id and
// vnode count (token i = keyToken("<id>#<i>")), so every node builds the same
// ring from the same list, and adding a member leaves the others' tokens as
// they were. The API token is required when HTTP listens on a non-loopback
// address.
//
// Ring changes (core/ring_change/ring_phase_driver.ts): a node started with
// "join": true learns the ring from its seeds, picks `vnodes` tokens by
// balanced allocation (or, with "replaces", the dead member's tokens),
// announces 'joining', pulls its ranges and announces 'normal', all by
// gossip; a restart resumes the join. Its own member entry is marked
// "joining": true (an address, no tokens: it is placed by what it gossips, not
// by the list); its list needs the seeds' entries, and the running nodes need
// no change to their lists (an entry there must be marked "joining" as well).
// `ringkv decommission`
// and `ringkv removenode` start the other changes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type NodeConfig, DEFAULT_KEYSPACE, type KeyspaceConfig, defaultNodeConfig } from '../core/node.ts';
import { keyToken } from '../core/ring/key_hash.ts';
import { isToken } from '../core/ring/token_range.ts';
import { keyspaceProblem } from '../core/replication/keyspace.ts';
import type { EngineOptions } from '../core/storage/engine_options.ts';
import { murmur3_32 } from '../core/storage/hash32.ts';
import { parseSecretHex } from './peer_auth.ts';

export type Durability = { mode: 'group-commit' } | { mode: 'periodic'; intervalMs: number };

export interface MemberAddress {
  id: string;
  host: string;
  port: number;
  tokens: bigint[];
}

/** A validated node configuration. */
export interface RealNodeConfig {
  nodeId: string;
  cluster: string;
  dataDir: string;
  http: { host: string; port: number; apiToken: string | null; maxInflightRequests: number };
  peer: { host: string; port: number };
  secret: Uint8Array;
  members: MemberAddress[];
  durability: Durability;
  /** What core/node.ts's StoreNode is opened with. */
  node: NodeConfig;
  log: { level: string; file: string | null };
  shutdownTimeoutMs: number;
}

/** Every problem found, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export const DEFAULT_VNODES = 64;
/**
 * Twice the engine's own default: replicas read each key before writing it,
 * and a larger memtable answers more of those reads and folds more
 * overwrites before they reach a table. On 1 KiB overwrites of 5,000 and
 * 20,000 keys an engine read-then-write took 15-25% less CPU than at 8 MiB.
 * The cost is memory (active plus flushing memtable) and log replay after a
 * crash: about 0.65 s for a full 32 MiB of logs.
 */
export const DEFAULT_MEMTABLE_BYTES = 16 * 1024 * 1024;
/** Up to a quarter of the memtable: three replicas' flushes land apart. */
export const DEFAULT_MEMTABLE_JITTER = 0.25;
/**
 * Records one step of a Merkle tree build reads on a real node (the
 * simulator keeps anti_entropy_options.ts's 256). A step also hashes each
 * record into its tree, and with 1 KiB values 256 records held the event
 * loop 6-78 ms under load, in the seconds after a start when the trees are
 * built: most of a QUORUM put p99 of 41 ms at 2,000 ops/s. 32 keeps a step
 * to a few milliseconds; a build of a million keys then takes a minute or
 * two in the background.
 */
export const DEFAULT_MERKLE_BUILD_KEYS_PER_STEP = 32;
export const DEFAULT_HTTP_PORT = 8001;
export const DEFAULT_PEER_PORT = 9001;
/** What a node id may be (checked in configurations, and of peers that connect). */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const ENGINE_KEYS: ReadonlySet<string> = new Set([
  'compaction', 'memtableBytes', 'memtableJitter', 'blockBytes', 'bloomBitsPerKey', 'blockCacheBytes', 'compression',
  'tombstoneGraceMs', 'compactionStepBytes', 'compactionBytesPerSec', 'targetFileBytes', 'l1TargetBytes',
]);
const TOP_KEYS: ReadonlySet<string> = new Set([
  'nodeId', 'cluster', 'dataDir', 'http', 'peer', 'secretFile', 'members', 'vnodes', 'keyspaces', 'durability',
  'syncIntervalMs', 'requestTimeoutMs', 'hintWindowMs', 'maxHintsPerTarget', 'hintReplayBytesPerSec', 'maxKeyBytes',
  'maxValueBytes', 'engine', 'log', 'shutdownTimeoutMs', 'seeds', 'gossipIntervalMs', 'phiThreshold', 'join', 'replaces',
]);

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** host and port as "host:port", an IPv6 host in brackets ("[::1]:9001"): what parseHostPort reads. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "host:port" (IPv6 as "[::1]:9001") into its parts; null when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

/** The tokens a member gets from its id when none are configured. */
export function derivedTokens(id: string, vnodes: number): bigint[] {
  const utf8 = new TextEncoder();
  return Array.from({ length: vnodes }, (_, i) => keyToken(utf8.encode(`${id}#${i}`)));
}

/** Reads a JSON config file; relative paths inside it are resolved against its directory. */
export function readConfigFile(file: string): { raw: Record<string, unknown>; baseDir: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`config file ${file} is not JSON: ${(err as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError([`config file ${file} must hold a JSON object`]);
  return { raw: raw as Record<string, unknown>, baseDir: path.dirname(path.resolve(file)) };
}

/**
 * Validates `raw` (a config file's object with flag overrides merged in).
 * `env` supplies RINGKV_CLUSTER_SECRET and RINGKV_API_TOKEN. Throws ConfigError listing every problem.
 */
export function resolveNodeConfig(raw: Record<string, unknown>, baseDir: string, env: Record<string, string | undefined> = {}): RealNodeConfig {
  const problems: string[] = [];
  const bad = (msg: string): undefined => void problems.push(msg);
  const rel = (p: string) => path.resolve(baseDir, p);
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) bad(`unknown setting "${k}"`);

  const nodeId = raw.nodeId;
  if (typeof nodeId !== 'string' || !NODE_ID_PATTERN.test(nodeId)) bad(`nodeId must be 1-64 letters, digits, '_', '.', '-' (got ${JSON.stringify(nodeId)})`);
  const cluster = str(raw.cluster, 'cluster', 'ringkv', bad);
  const dataDir = typeof raw.dataDir === 'string' && raw.dataDir !== '' ? rel(raw.dataDir) : bad('dataDir is required (a directory for this node alone)');

  const http = obj(raw.http, 'http', bad);
  const httpHost = str(http.host, 'http.host', '127.0.0.1', bad);
  const httpPort = port(http.port, 'http.port', DEFAULT_HTTP_PORT, bad);
  let apiToken: string | null = env.RINGKV_API_TOKEN ?? null;
  if (typeof http.apiTokenFile === 'string') apiToken = readSecretFile(rel(http.apiTokenFile), 'http.apiTokenFile', bad) ?? null;
  else if (http.apiTokenFile !== undefined) bad('http.apiTokenFile must be a path');
  if (apiToken !== null && apiToken.length < 16) bad('the API token must be at least 16 characters');
  if (apiToken === null && !isLoopbackHost(httpHost)) bad(`http.host ${httpHost} is not loopback: an API token is required (http.apiTokenFile or RINGKV_API_TOKEN)`);
  const maxInflightRequests = int(http.maxInflightRequests, 'http.maxInflightRequests', 1024, 1, bad);

  const peer = obj(raw.peer, 'peer', bad);
  const peerHost = str(peer.host, 'peer.host', '127.0.0.1', bad);
  const peerPort = port(peer.port, 'peer.port', DEFAULT_PEER_PORT, bad);

  let secretHex: string | undefined = env.RINGKV_CLUSTER_SECRET;
  if (typeof raw.secretFile === 'string') secretHex = readSecretFile(rel(raw.secretFile), 'secretFile', bad);
  else if (raw.secretFile !== undefined) bad('secretFile must be a path');
  let secret: Uint8Array = new Uint8Array(0);
  if (secretHex === undefined) bad('a cluster secret is required: secretFile (--secret-file) or RINGKV_CLUSTER_SECRET');
  else {
    try {
      secret = parseSecretHex(secretHex);
    } catch (err) {
      bad((err as Error).message);
    }
  }

  const vnodes = int(raw.vnodes, 'vnodes', DEFAULT_VNODES, 1, bad, 4096);
  const members = resolveMembers(raw.members, typeof nodeId === 'string' ? nodeId : '', peerHost, peerPort, vnodes, bad);

  const keyspaces: KeyspaceConfig[] = [];
  if (raw.keyspaces !== undefined && !Array.isArray(raw.keyspaces)) bad('keyspaces must be a list');
  for (const [i, k] of ((Array.isArray(raw.keyspaces) ? raw.keyspaces : []) as unknown[]).entries()) {
    const ks = { ...DEFAULT_KEYSPACE, ...(typeof k === 'object' && k !== null ? k : {}) } as KeyspaceConfig;
    const problem = typeof k === 'object' && k !== null ? keyspaceProblem(ks) : `keyspaces[${i}] must be an object`;
    if (problem !== null) bad(problem);
    else if (keyspaces.some((o) => o.name === ks.name)) bad(`keyspace ${ks.name} configured twice`);
    else keyspaces.push(ks);
  }
  if (!keyspaces.some((k) => k.name === DEFAULT_KEYSPACE.name)) keyspaces.push({ ...DEFAULT_KEYSPACE });
  for (const ks of keyspaces) {
    if (ks.replicationFactor > members.length) {
      bad(`keyspace ${ks.name} has replication factor ${ks.replicationFactor}, but the cluster has ${members.length} member(s); configure it with a smaller one`);
    }
  }

  let durability: Durability = { mode: 'group-commit' };
  if (raw.durability === 'periodic') durability = { mode: 'periodic', intervalMs: int(raw.syncIntervalMs, 'syncIntervalMs', 100, 1, bad, 60_000) };
  else if (raw.durability !== undefined && raw.durability !== 'group-commit') bad(`durability must be "group-commit" or "periodic" (got ${JSON.stringify(raw.durability)})`);

  const engineRaw = obj(raw.engine, 'engine', bad);
  for (const k of Object.keys(engineRaw)) if (!ENGINE_KEYS.has(k)) bad(`unknown engine setting "${k}"`);
  if (engineRaw.compaction !== undefined && engineRaw.compaction !== 'leveled' && engineRaw.compaction !== 'tiered') bad('engine.compaction must be "leveled" or "tiered"');
  for (const [k, v] of Object.entries(engineRaw)) {
    if (k === 'compaction') continue;
    if (k === 'compression' ? typeof v !== 'boolean' : !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) bad(`engine.${k} has a bad value ${JSON.stringify(v)}`);
  }
  if (typeof engineRaw.memtableJitter === 'number' && engineRaw.memtableJitter > 0.5) bad(`engine.memtableJitter must be within [0, 0.5] (got ${engineRaw.memtableJitter})`);
  // Nodes flush at different points of their (identical) write streams: see memtableJitter in engine_options.ts.
  const jitterSalt = murmur3_32(new TextEncoder().encode(typeof nodeId === 'string' ? nodeId : ''));
  const engine: Partial<EngineOptions> = { memtableBytes: DEFAULT_MEMTABLE_BYTES, memtableJitter: DEFAULT_MEMTABLE_JITTER, jitterSalt, ...(engineRaw as Partial<EngineOptions>), syncWrites: durability.mode === 'group-commit' };

  const logRaw = obj(raw.log, 'log', bad);
  const level = str(logRaw.level, 'log.level', 'info', bad);
  if (!LOG_LEVELS.includes(level)) bad(`log.level must be one of ${LOG_LEVELS.join(', ')}`);
  const logFile = logRaw.file === undefined || logRaw.file === null ? null : typeof logRaw.file === 'string' ? rel(logRaw.file) : bad('log.file must be a path');

  const join = raw.join === undefined ? false : raw.join === true ? true : raw.join === false ? false : (bad('join must be true or false') ?? false);
  const replaces = raw.replaces === undefined ? undefined : typeof raw.replaces === 'string' && members.some((m) => m.id === raw.replaces) ? raw.replaces : bad(`replaces must be a member id (got ${JSON.stringify(raw.replaces)})`);
  if (replaces !== undefined && !join) bad('replaces needs "join": true');
  if (replaces !== undefined && replaces === nodeId) bad('a node does not replace itself');
  const self = members.find((m) => m.id === nodeId);
  if (join && self !== undefined && self.tokens.length > 0) bad(`this node joins: mark its member entry "joining": true (it picks its tokens when it joins)`);
  if (!join && self !== undefined && self.tokens.length === 0) bad(`this node's member entry is "joining": start it with "join": true`);
  // Joining members are placed by gossip, not by the list.
  const placed = members.filter((m) => m.tokens.length > 0);
  const node = defaultNodeConfig(typeof nodeId === 'string' ? nodeId : '', placed.map((m) => ({ id: m.id, tokens: m.tokens })), {
    keyspaces,
    requestTimeoutMs: int(raw.requestTimeoutMs, 'requestTimeoutMs', 2000, 1, bad),
    hintWindowMs: int(raw.hintWindowMs, 'hintWindowMs', 3 * 3600 * 1000, 1, bad),
    maxHintsPerTarget: int(raw.maxHintsPerTarget, 'maxHintsPerTarget', 100_000, 1, bad),
    hintReplayBytesPerSec: int(raw.hintReplayBytesPerSec, 'hintReplayBytesPerSec', 1024 * 1024, 1, bad),
    maxKeyBytes: int(raw.maxKeyBytes, 'maxKeyBytes', 1024, 1, bad, 60_000),
    maxValueBytes: int(raw.maxValueBytes, 'maxValueBytes', 1024 * 1024, 0, bad, 16 * 1024 * 1024),
    engine,
    seeds: seedList(raw.seeds, members, bad),
    gossipIntervalMs: int(raw.gossipIntervalMs, 'gossipIntervalMs', 1000, 10, bad, 60_000),
    antiEntropy: { buildKeysPerStep: DEFAULT_MERKLE_BUILD_KEYS_PER_STEP },
    ...(join ? { join: true, vnodes } : {}),
    ...(replaces !== undefined ? { replaces } : {}),
  });
  if (raw.phiThreshold !== undefined) {
    if (typeof raw.phiThreshold === 'number' && Number.isFinite(raw.phiThreshold) && raw.phiThreshold > 0) node.phiThreshold = raw.phiThreshold;
    else bad(`phiThreshold must be a number > 0 (got ${JSON.stringify(raw.phiThreshold)})`);
  }
  const shutdownTimeoutMs = int(raw.shutdownTimeoutMs, 'shutdownTimeoutMs', 10_000, 1, bad);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    nodeId: nodeId as string,
    cluster,
    dataDir: dataDir!,
    http: { host: httpHost, port: httpPort, apiToken, maxInflightRequests },
    peer: { host: peerHost, port: peerPort },
    secret,
    members,
    durability,
    node,
    log: { level, file: logFile ?? null },
    shutdownTimeoutMs,
  };
}

/** Gossip seeds: member ids; default every member. */
function seedList(raw: unknown, members: readonly MemberAddress[], bad: (m: string) => undefined): string[] {
  if (raw === undefined) return members.map((m) => m.id);
  if (!Array.isArray(raw) || raw.length === 0) return bad('seeds must be a non-empty list of member ids') ?? [];
  const seeds: string[] = [];
  for (const s of raw as unknown[]) {
    if (typeof s !== 'string' || !members.some((m) => m.id === s)) bad(`seed ${JSON.stringify(s)} is not a member id`);
    else if (!seeds.includes(s)) seeds.push(s);
  }
  return seeds;
}

function resolveMembers(raw: unknown, nodeId: string, peerHost: string, peerPort: number, vnodes: number, bad: (m: string) => undefined): MemberAddress[] {
  // Without a member list the node is a cluster of one.
  const list = raw === undefined ? [{ id: nodeId, address: formatHostPort(peerHost, peerPort) }] : raw;
  if (!Array.isArray(list) || list.length === 0) return bad('members must be a non-empty list of {id, address}') ?? [];
  const members: MemberAddress[] = [];
  const seen = new Set<string>();
  const owner = new Map<bigint, string>();
  const clashes = new Map<string, bigint>();
  for (const [i, m] of (list as unknown[]).entries()) {
    const e = obj(m, `members[${i}]`, bad);
    if (typeof e.id !== 'string' || !NODE_ID_PATTERN.test(e.id)) {
      bad(`members[${i}].id ${JSON.stringify(e.id)} is not a valid node id`);
      continue;
    }
    const id = e.id;
    if (seen.has(id)) {
      bad(`member ${id} listed twice`);
      continue;
    }
    seen.add(id);
    const address = typeof e.address === 'string' ? parseHostPort(e.address) : null;
    if (address === null) bad(`member ${id}: address must be "host:port" (got ${JSON.stringify(e.address)})`);
    let tokens: bigint[];
    if (e.joining !== undefined && e.joining !== true && e.joining !== false) bad(`member ${id}: joining must be true or false`);
    if (e.joining === true) {
      if (e.tokens !== undefined || e.vnodes !== undefined) bad(`member ${id}: a joining member has no tokens or vnodes in the list (it picks them when it joins)`);
      tokens = [];
    } else if (e.tokens !== undefined) {
      tokens = [];
      if (!Array.isArray(e.tokens) || e.tokens.length === 0) bad(`member ${id}: tokens must be a non-empty list of decimal strings`);
      else {
        for (const t of e.tokens as unknown[]) {
          const token = typeof t === 'string' && /^\d{1,20}$/.test(t) ? BigInt(t) : -1n;
          if (!isToken(token)) bad(`member ${id}: token ${JSON.stringify(t)} is not an integer in [0, 2^64)`);
          else tokens.push(token);
        }
      }
    } else {
      tokens = derivedTokens(id, int(e.vnodes, `member ${id} vnodes`, vnodes, 1, bad, 4096));
    }
    for (const t of tokens) {
      const prev = owner.get(t);
      if (prev !== undefined && !clashes.has(`${prev} ${id}`)) clashes.set(`${prev} ${id}`, t);
      owner.set(t, id);
    }
    if (address !== null) members.push({ id, host: address.host, port: address.port, tokens });
  }
  for (const [pair, t] of clashes) bad(`token ${t} belongs to both ${pair.replace(' ', ' and ')}`);
  if (nodeId !== '' && members.length > 0 && !members.some((m) => m.id === nodeId)) bad(`this node (${nodeId}) is not among the members`);
  return members;
}

function readSecretFile(file: string, what: string, bad: (m: string) => undefined): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    return bad(`${what}: cannot read ${file}: ${(err as Error).message}`);
  }
}

function obj(v: unknown, what: string, bad: (m: string) => undefined): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  bad(`${what} must be an object`);
  return {};
}

function str(v: unknown, what: string, fallback: string, bad: (m: string) => undefined): string {
  if (v === undefined) return fallback;
  if (typeof v === 'string' && v !== '') return v;
  bad(`${what} must be a non-empty string`);
  return fallback;
}

function int(v: unknown, what: string, fallback: number, min: number, bad: (m: string) => undefined, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max) return v;
  bad(`${what} must be an integer in ${min}..${max} (got ${JSON.stringify(v)})`);
  return fallback;
}

function port(v: unknown, what: string, fallback: number, bad: (m: string) => undefined): number {
  return int(v, what, fallback, 0, bad, 65535);
}
