// The HTTP API of a node, modelled on Riak's:
//
//   PUT|POST /kv/{keyspace}/{key}   body = the value (raw bytes)        -> 204
//   GET      /kv/{keyspace}/{key}   -> 200 value | 300 siblings | 404
//   DELETE   /kv/{keyspace}/{key}   -> 204
//   GET      /kv/{keyspace}?start=&end=&limit=&resume=&encoding=  -> 200 JSON page
//   GET      /admin/status  GET /metrics  GET /health
//   GET      /admin/replicas?keyspace=   every replica record held here (replica_dump.ts)
//   GET|POST /admin/repair?keyspace=&start=&end=   Merkle anti-entropy repair (admin_repair.ts)
//   POST     /admin/decommission  POST /admin/removenode?node=ID  GET /admin/ring   ring changes (admin_ring.ts)
//
// Query parameters: consistency=ONE|TWO|QUORUM|ALL|STRONG, r=N (reads),
// w=N (writes), ttl=SECONDS (puts). The key is everything after the
// keyspace, percent-decoded to bytes (http_params.ts). The causal context
// comes back in the X-Ringkv-Context header and is accepted in the same
// header on PUT and DELETE. Siblings answer 300 Multiple Choices with every
// sibling as a part of a multipart/mixed body (or, with Accept:
// application/json, as {"siblings": [base64...], "context"}). Errors are
// JSON {"error": {"code", "message", "replied"?, "required"?, "definite"?}}:
// 400 malformed, 401 no API token, 403 wrong token, 404 unknown keyspace or
// key, 413 key or value too large, 429 overloaded, 503 not enough replicas
// answered. With an API token configured every route but /health needs
// `Authorization: Bearer TOKEN`.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Consistency, ErrorInfo, ScanItem, StoreNode } from '../core/node.ts';
import { MAX_LAYOUT_KEY_BYTES } from '../core/replication/storage_keys.ts';
import { decodeContext } from '../core/versioning/dvv_codec.ts';
import { HttpInputError, bytesParam, consistencyLabel, consistencyParams, limitParam, percentDecodeBytes, rawQuery, textParam, ttlParam } from './http_params.ts';
import type { NodeMetrics, Operation } from './metrics.ts';
import { handleAdminRepair } from './admin_repair.ts';
import { ADMIN_RING_PATHS, handleAdminRing } from './admin_ring.ts';
import { encodeReplicaDump } from './replica_dump.ts';

export const CONTEXT_HEADER = 'x-ringkv-context';

export interface HttpApiOptions {
  node: StoreNode;
  metrics: NodeMetrics;
  status: () => unknown;
  apiToken: string | null;
  maxKeyBytes: number;
  maxValueBytes: number;
  maxInflightRequests: number;
  logger: Logger;
}

type Respond = (status: number, headers: Record<string, string>, body?: string | Uint8Array) => void;

const ERROR_STATUS: Record<ErrorInfo['code'], number> = {
  invalid: 400,
  not_found_keyspace: 404,
  unavailable: 503,
  timeout: 503,
  overloaded: 429,
  corruption: 500,
  internal: 500,
};

/**
 * The answer to one request, sent at most once. A small object with
 * methods rather than closures made per request: the node process runs
 * through tsx, which compiles a named closure with a defineProperty call for
 * its name on every creation.
 */
class Reply {
  private answered = false;

  constructor(
    private readonly o: HttpApiOptions,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  respond(status: number, headers: Record<string, string>, body?: string | Uint8Array): void {
    if (this.answered) return;
    this.answered = true;
    this.o.metrics.observeHttpStatus(status);
    if (status >= 500) this.o.logger.warn({ method: this.req.method, url: this.req.url?.slice(0, 200), status }, 'request failed');
    // An explicit length: without it node:http answers chunked, which costs
    // the client a chunk parser and the server extra bytes on every reply.
    if (status !== 204 && status !== 304) headers['content-length'] = String(body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length);
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  fail(status: number, code: string, message: string, extra: Partial<ErrorInfo> = {}, headers: Record<string, string> = {}): void {
    this.respond(status, { 'content-type': 'application/json', ...headers }, JSON.stringify({ error: { code, message, ...extra } }) + '\n');
  }

  /** The answer of a node call that failed. */
  failWith(e: ErrorInfo): void {
    const extra: Partial<ErrorInfo> = { definite: e.definite };
    if (e.replied !== undefined) extra.replied = e.replied;
    if (e.required !== undefined) extra.required = e.required;
    const status = ERROR_STATUS[e.code];
    this.fail(status, e.code, e.message, extra, status === 503 || status === 429 ? { 'retry-after': '1' } : {});
  }
}

export function httpRequestHandler(o: HttpApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  let inflight = 0;
  const release = (): void => {
    inflight--;
  };
  const tokenDigest = o.apiToken === null ? null : createHash('sha256').update(o.apiToken).digest();
  const maxKeyBytes = Math.min(o.maxKeyBytes, MAX_LAYOUT_KEY_BYTES);
  // The keyspace segment of the last request and its name: a client mostly uses one keyspace.
  let lastKeyspaceSegment = '';
  let lastKeyspace = '';
  const readQuery = new KeyQueryCache('read');
  const writeQuery = new KeyQueryCache('write');
  const deleteQuery = new KeyQueryCache('delete');

  return (req, res) => {
    const reply = new Reply(o, req, res);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q + 1);
    if (pathname === '/health') return reply.respond(200, { 'content-type': 'application/json' }, JSON.stringify({ ok: true, node: o.node.nodeId }) + '\n');

    if (tokenDigest !== null) {
      const auth = req.headers.authorization;
      const m = auth === undefined ? null : /^Bearer (.+)$/.exec(auth);
      if (m === null) return reply.fail(401, 'unauthorized', 'an API token is required: Authorization: Bearer TOKEN', {}, { 'www-authenticate': 'Bearer' });
      if (!timingSafeEqual(createHash('sha256').update(m[1]!).digest(), tokenDigest)) return reply.fail(403, 'forbidden', 'the API token is not valid');
    }
    if (inflight >= o.maxInflightRequests) {
      return reply.fail(429, 'overloaded', `${inflight} requests in progress on this node, the limit is ${o.maxInflightRequests}; retry later`, {}, { 'retry-after': '1' });
    }
    inflight++;
    // A response emits 'close' once, answered or not (the client may go first).
    res.on('close', release);

    try {
      if (pathname.startsWith('/kv/')) {
        const slash = pathname.indexOf('/', 4);
        const segment = slash === -1 ? pathname.slice(4) : pathname.slice(4, slash);
        if (segment === '') return reply.fail(404, 'not_found', `no route ${req.method} ${pathname.slice(0, 100)}; see /kv/{keyspace}/{key}, /admin/status, /metrics`);
        if (segment !== lastKeyspaceSegment) {
          const ksBytes = percentDecodeBytes(segment);
          if (ksBytes === null) throw new HttpInputError('keyspace has a malformed percent-escape');
          lastKeyspace = lenientUtf8.decode(ksBytes);
          lastKeyspaceSegment = segment;
        }
        const keyspace = lastKeyspace;
        if (slash === -1) {
          if (req.method !== 'GET') return reply.fail(405, 'method_not_allowed', `${req.method} is not allowed on a keyspace; GET scans it`, {}, { allow: 'GET' });
          return scan(o, keyspace, search, reply);
        }
        const key = percentDecodeBytes(pathname.slice(slash + 1));
        if (key === null) throw new HttpInputError('key has a malformed percent-escape');
        if (key.length === 0) throw new HttpInputError('key is empty');
        if (key.length > maxKeyBytes) throw new HttpInputError(`key of ${key.length} bytes exceeds the limit of ${maxKeyBytes}`, 413, 'too_large');
        switch (req.method) {
          case 'GET':
            return get(o, req, keyspace, key, readQuery.get(search), reply);
          case 'PUT':
          case 'POST':
            return put(o, req, keyspace, key, writeQuery.get(search), reply);
          case 'DELETE':
            return del(o, req, keyspace, key, deleteQuery.get(search), reply);
          default:
            return reply.fail(405, 'method_not_allowed', `${req.method} is not allowed on a key`, {}, { allow: 'GET, PUT, POST, DELETE' });
        }
      }
      const respond: Respond = (status, headers, body) => reply.respond(status, headers, body);
      const fail: Fail = (status, code, message, extra, headers) => reply.fail(status, code, message, extra, headers);
      if (pathname === '/metrics' && req.method === 'GET') {
        o.metrics.text().then(
          (text) => respond(200, { 'content-type': o.metrics.contentType }, text),
          (err: Error) => fail(500, 'internal', `metrics: ${err.message}`),
        );
        return;
      }
      if (pathname === '/admin/status' && req.method === 'GET') {
        return respond(200, { 'content-type': 'application/json' }, JSON.stringify(o.status(), null, 2) + '\n');
      }
      if (pathname === '/admin/repair') return handleAdminRepair(o.node, req.method, search, respond, fail);
      if (ADMIN_RING_PATHS.includes(pathname)) return handleAdminRing(o.node, pathname, req.method, search, respond, fail);
      if (pathname === '/admin/replicas' && req.method === 'GET') {
        const keyspace = textParam(rawQuery(search, ['keyspace']), 'keyspace') ?? null;
        return respond(200, { 'content-type': 'application/json' }, encodeReplicaDump(o.node.nodeId, o.node.dumpReplicaRecords(), keyspace));
      }
      return fail(404, 'not_found', `no route ${req.method} ${pathname.slice(0, 100)}; see /kv/{keyspace}/{key}, /admin/status, /metrics`);
    } catch (err) {
      if (err instanceof HttpInputError) return reply.fail(err.status, err.code, err.message, {}, err.status === 413 ? { connection: 'close' } : {});
      o.logger.error({ err }, 'request handler failed');
      return reply.fail(500, 'internal', 'internal error');
    }
  };
}

type Fail = (status: number, code: string, message: string, extra?: Partial<ErrorInfo>, headers?: Record<string, string>) => void;

/** What a key request's query string asks for. Frozen: one parse serves every request with the same query. */
interface KeyQuery {
  readonly consistency: Consistency | undefined;
  readonly ttlMs: number | undefined;
}

const READ_PARAMS = ['consistency', 'r'] as const;
const WRITE_PARAMS = ['consistency', 'w', 'ttl'] as const;
const DELETE_PARAMS = ['consistency', 'w'] as const;

/**
 * The last query string of one kind of request and its parse: a client
 * sends the same one on every request (`consistency=QUORUM`), and parsing
 * it (split, checks, a Map, a Consistency) cost ~1% of a node's CPU.
 * A malformed query throws and is not kept.
 */
class KeyQueryCache {
  private search: string | null = null;
  private parsed: KeyQuery = Object.freeze({ consistency: undefined, ttlMs: undefined });

  constructor(private readonly kind: 'read' | 'write' | 'delete') {}

  get(search: string): KeyQuery {
    if (search === this.search) return this.parsed;
    const params = rawQuery(search, this.kind === 'read' ? READ_PARAMS : this.kind === 'write' ? WRITE_PARAMS : DELETE_PARAMS);
    const consistency = consistencyParams(params, this.kind === 'read' ? ['r'] : ['w']);
    const ttlMs = this.kind === 'write' ? ttlParam(params) : undefined;
    this.parsed = Object.freeze({ consistency: consistency === undefined ? undefined : Object.freeze(consistency), ttlMs });
    this.search = search;
    return this.parsed;
  }
}

/** Records a node call's outcome and latency (from `started`, performance.now) in the metrics. */
function observe(o: HttpApiOptions, op: Operation, consistency: Consistency | undefined, outcome: string, started: number): void {
  // performance.now, not hrtime.bigint: two BigInts per request for a histogram with 0.5 ms buckets.
  o.metrics.observeRequest(op, consistencyLabel(consistency), outcome, (performance.now() - started) / 1000);
}

function contextHeader(req: IncomingMessage): string | null {
  const raw = req.headers[CONTEXT_HEADER];
  if (raw === undefined) return null;
  if (Array.isArray(raw)) throw new HttpInputError(`${CONTEXT_HEADER} given more than once`);
  try {
    decodeContext(raw);
  } catch (err) {
    throw new HttpInputError(`malformed ${CONTEXT_HEADER}: ${(err as Error).message}`);
  }
  return raw;
}

/** Response headers: a content type, and the causal context when there is one. */
function headersWith(contentType: string, context: string | null): Record<string, string> {
  const h: Record<string, string> = { 'content-type': contentType };
  if (context !== null) h[CONTEXT_HEADER] = context;
  return h;
}

function get(o: HttpApiOptions, req: IncomingMessage, keyspace: string, key: Uint8Array, query: KeyQuery, reply: Reply): void {
  const consistency = query.consistency;
  const started = performance.now();
  o.node.get({ keyspace, key, consistency }, (r) => {
    if (!r.ok) {
      observe(o, 'get', consistency, r.error.code, started);
      return reply.failWith(r.error);
    }
    if (!r.found || r.values.length === 0) {
      observe(o, 'get', consistency, 'not_found', started);
      return reply.fail(404, 'not_found', 'key not found', {}, r.context === null ? {} : { [CONTEXT_HEADER]: r.context });
    }
    if (r.values.length === 1) {
      observe(o, 'get', consistency, 'ok', started);
      return reply.respond(200, headersWith('application/octet-stream', r.context), r.values[0]!);
    }
    observe(o, 'get', consistency, 'siblings', started);
    if ((req.headers.accept ?? '').includes('application/json')) {
      const body = { siblings: r.values.map((v) => Buffer.from(v).toString('base64')), context: r.context };
      return reply.respond(300, headersWith('application/json', r.context), JSON.stringify(body) + '\n');
    }
    const boundary = boundaryFor(r.values);
    reply.respond(300, headersWith(`multipart/mixed; boundary=${boundary}`, r.context), multipart(boundary, r.values));
  });
}

function put(o: HttpApiOptions, req: IncomingMessage, keyspace: string, key: Uint8Array, query: KeyQuery, reply: Reply): void {
  const { consistency, ttlMs } = query;
  const context = contextHeader(req);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > o.maxValueBytes) throw new HttpInputError(`value of ${declared} bytes exceeds the limit of ${o.maxValueBytes}`, 413, 'too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    if (size > o.maxValueBytes) return; // answered already; the rest is read and dropped, then the connection closes
    size += chunk.length;
    if (size > o.maxValueBytes) {
      chunks.length = 0;
      return reply.fail(413, 'too_large', `value exceeds the limit of ${o.maxValueBytes} bytes`, {}, { connection: 'close' });
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > o.maxValueBytes) return;
    // A view, not a copy, of the body (one chunk for most values): the node encodes it into its own records.
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const value = new Uint8Array(body.buffer, body.byteOffset, size);
    const started = performance.now();
    o.node.put({ keyspace, key, value, consistency, ttlMs, context }, (r) => {
      observe(o, 'put', consistency, r.ok ? 'ok' : r.error.code, started);
      if (!r.ok) return reply.failWith(r.error);
      reply.respond(204, {});
    });
  });
}

function del(o: HttpApiOptions, req: IncomingMessage, keyspace: string, key: Uint8Array, query: KeyQuery, reply: Reply): void {
  const consistency = query.consistency;
  const context = contextHeader(req);
  const started = performance.now();
  o.node.delete({ keyspace, key, consistency, context }, (r) => {
    observe(o, 'delete', consistency, r.ok ? 'ok' : r.error.code, started);
    if (!r.ok) return reply.failWith(r.error);
    reply.respond(204, {});
  });
}

function scan(o: HttpApiOptions, keyspace: string, search: string, reply: Reply): void {
  const params = rawQuery(search, ['start', 'end', 'limit', 'resume', 'consistency', 'r', 'encoding']);
  const consistency = consistencyParams(params, ['r']);
  const encoding = textParam(params, 'encoding') ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64') throw new HttpInputError('encoding must be utf8 or base64');
  const resume = textParam(params, 'resume');
  const started = performance.now();
  o.node.scan(
    { keyspace, start: bytesParam(params, 'start'), end: bytesParam(params, 'end'), limit: limitParam(params), resumeToken: resume ?? null, consistency },
    (r) => {
      observe(o, 'scan', consistency, r.ok ? 'ok' : r.error.code, started);
      if (!r.ok) return reply.failWith(r.error);
      const body = { items: r.items.map((item) => scanItemJson(item, encoding)), resumeToken: r.resumeToken };
      reply.respond(200, { 'content-type': 'application/json' }, JSON.stringify(body) + '\n');
    },
  );
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder();

/** An item as JSON: text when key and values are valid UTF-8 and utf8 was asked for, else base64 (said in `encoding`). */
function scanItemJson(item: ScanItem, encoding: 'utf8' | 'base64'): Record<string, unknown> {
  if (encoding === 'utf8') {
    try {
      return { key: strictUtf8.decode(item.key), values: item.values.map((v) => strictUtf8.decode(v)), context: item.context };
    } catch {
      // falls through to base64 for this item
    }
  }
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return { key: b64(item.key), values: item.values.map(b64), context: item.context, encoding: 'base64' };
}

function boundaryFor(values: Uint8Array[]): string {
  for (;;) {
    const boundary = `ringkv-${randomBytes(12).toString('hex')}`;
    const marker = Buffer.from(`--${boundary}`);
    if (values.every((v) => Buffer.from(v).indexOf(marker) === -1)) return boundary;
  }
}

function multipart(boundary: string, values: Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const v of values) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-type: application/octet-stream\r\n\r\n`), Buffer.from(v), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return new Uint8Array(Buffer.concat(parts));
}
