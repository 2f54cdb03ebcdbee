// The ringkv client SDK: `import { Client } from 'ringkv'`.
//
//   const client = new Client({ nodes: ['http://127.0.0.1:8001', 'http://127.0.0.1:8002'] });
//   await client.put('default', 'greeting', 'hello', { consistency: 'QUORUM' });
//   const r = await client.get('default', 'greeting');   // r.value, r.values (siblings), r.context
//   await client.update('carts', 'c1', (siblings) => merge(siblings));  // read, resolve, write with the context
//   for await (const item of client.scan('default', { start: 'a', end: 'b' })) ...
//
// Any node coordinates any request, so requests go round-robin over the
// nodes, and a retry goes to the next one. 503 (not enough replicas), 429
// (overloaded) and connection failures are retried with exponential backoff
// and jitter, up to `retries` times; other errors are thrown at once as a
// RingkvError carrying the server's code and message. Connections are kept
// alive in a pool per node (node:http Agent). A retried write may be applied
// twice; in a siblings keyspace, pass the context so a repeat replaces what
// it saw instead of adding a sibling.

import * as http from 'node:http';

export type ConsistencyLevel = 'ONE' | 'TWO' | 'QUORUM' | 'ALL' | 'STRONG';
export type Bytes = Uint8Array | string;

export interface ClientOptions {
  /** Base URLs of the nodes, e.g. http://127.0.0.1:8001. */
  nodes: string[];
  apiToken?: string;
  /** Per attempt; default 5000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt on 503, 429 and connection errors; default 3. */
  retries?: number;
  /** First backoff; doubles per retry up to maxBackoffMs. Default 50 ms. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Open connections per node; default 16. */
  maxSockets?: number;
}

export interface ReadOptions {
  consistency?: ConsistencyLevel;
  r?: number;
}

export interface WriteOptions {
  consistency?: ConsistencyLevel;
  w?: number;
  /** The causal context of a previous get: the write replaces the versions it saw. */
  context?: string | null;
}

export interface PutOptions extends WriteOptions {
  ttlSeconds?: number;
}

export interface GetResult {
  found: boolean;
  /** The value when there is exactly one; null when not found or in conflict. */
  value: Uint8Array | null;
  /** Every sibling (one in lww keyspaces). */
  values: Uint8Array[];
  context: string | null;
}

export interface ScanOptions extends ReadOptions {
  start?: Bytes;
  /** Exclusive. */
  end?: Bytes;
  /** Items per page; default 100. */
  pageSize?: number;
}

export interface ScanItem {
  key: Uint8Array;
  values: Uint8Array[];
  context: string | null;
}

/** An error answered by a node (or the last one of a retried request). */
export class RingkvError extends Error {
  override name = 'RingkvError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: { replied?: number; required?: number; definite?: boolean } = {},
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const RETRY_STATUS = new Set([429, 503]);
const CONTEXT_HEADER = 'x-ringkv-context';

function toBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? new TextEncoder().encode(b) : b;
}

/** Percent-encodes every byte outside RFC 3986's unreserved set. */
export function encodeKeyBytes(b: Bytes): string {
  let out = '';
  for (const byte of toBytes(b)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export class Client {
  private readonly nodes: URL[];
  private readonly agents: http.Agent[];
  private next = 0;
  private readonly o: Required<Omit<ClientOptions, 'apiToken' | 'nodes'>> & { apiToken: string | null };

  constructor(options: ClientOptions) {
    if (options.nodes.length === 0) throw new Error('Client needs at least one node URL');
    this.nodes = options.nodes.map((n) => new URL(n));
    for (const u of this.nodes) if (u.protocol !== 'http:') throw new Error(`node URL ${u.href} must be http://`);
    this.o = {
      apiToken: options.apiToken ?? null,
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? 3,
      backoffMs: options.backoffMs ?? 50,
      maxBackoffMs: options.maxBackoffMs ?? 2000,
      maxSockets: options.maxSockets ?? 16,
    };
    this.agents = this.nodes.map(() => new http.Agent({ keepAlive: true, maxSockets: this.o.maxSockets }));
  }

  async get(keyspace: string, key: Bytes, options: ReadOptions = {}): Promise<GetResult> {
    const reply = await this.send('GET', this.keyPath(keyspace, key, readQuery(options)), undefined, { accept: 'application/json, application/octet-stream' });
    const context = headerText(reply.headers[CONTEXT_HEADER]);
    if (reply.status === 404) {
      const code = errorCode(reply);
      if (code !== 'not_found') throw toError(reply);
      return { found: false, value: null, values: [], context };
    }
    if (reply.status === 200) {
      const value = new Uint8Array(reply.body);
      return { found: true, value, values: [value], context };
    }
    if (reply.status === 300) {
      const parsed = JSON.parse(reply.body.toString('utf8')) as { siblings: string[] };
      const values = parsed.siblings.map((s) => new Uint8Array(Buffer.from(s, 'base64')));
      return { found: true, value: null, values, context };
    }
    throw toError(reply);
  }

  async put(keyspace: string, key: Bytes, value: Bytes, options: PutOptions = {}): Promise<void> {
    const query = writeQuery(options);
    if (options.ttlSeconds !== undefined) query.push(`ttl=${options.ttlSeconds}`);
    const reply = await this.send('PUT', this.keyPath(keyspace, key, query), toBytes(value), contextHeaders(options.context));
    if (reply.status !== 204) throw toError(reply);
  }

  async delete(keyspace: string, key: Bytes, options: WriteOptions = {}): Promise<void> {
    const reply = await this.send('DELETE', this.keyPath(keyspace, key, writeQuery(options)), undefined, contextHeaders(options.context));
    if (reply.status !== 204) throw toError(reply);
  }

  /**
   * Reads a key, hands its current values (siblings, or [] when absent) to
   * `resolve`, and writes the result with the read's context, so it
   * replaces exactly the versions it was computed from.
   */
  async update(keyspace: string, key: Bytes, resolve: (values: Uint8Array[]) => Bytes, options: PutOptions & ReadOptions = {}): Promise<void> {
    const current = await this.get(keyspace, key, { consistency: options.consistency, r: options.r });
    await this.put(keyspace, key, resolve(current.values), { ...options, context: current.context });
  }

  /** One page of a scan; pass the returned resumeToken back for the next. */
  async scanPage(keyspace: string, options: ScanOptions & { resumeToken?: string | null } = {}): Promise<{ items: ScanItem[]; resumeToken: string | null }> {
    const query = readQuery(options);
    query.push('encoding=base64', `limit=${options.pageSize ?? 100}`);
    if (options.start !== undefined) query.push(`start=${encodeKeyBytes(options.start)}`);
    if (options.end !== undefined) query.push(`end=${encodeKeyBytes(options.end)}`);
    if (options.resumeToken) query.push(`resume=${encodeURIComponent(options.resumeToken)}`);
    const reply = await this.send('GET', `/kv/${encodeURIComponent(keyspace)}?${query.join('&')}`);
    if (reply.status !== 200) throw toError(reply);
    const body = JSON.parse(reply.body.toString('utf8')) as { items: { key: string; values: string[]; context: string | null }[]; resumeToken: string | null };
    const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    return { items: body.items.map((i) => ({ key: b64(i.key), values: i.values.map(b64), context: i.context })), resumeToken: body.resumeToken };
  }

  /** Every item in [start, end), page by page. */
  async *scan(keyspace: string, options: ScanOptions = {}): AsyncGenerator<ScanItem> {
    let resumeToken: string | null = null;
    do {
      const page: { items: ScanItem[]; resumeToken: string | null } = await this.scanPage(keyspace, { ...options, resumeToken });
      yield* page.items;
      resumeToken = page.resumeToken;
    } while (resumeToken !== null);
  }

  /** GET /admin/status of one node (default: the next in turn). */
  async status(node?: number): Promise<Record<string, unknown>> {
    const reply = await this.send('GET', '/admin/status', undefined, {}, node);
    if (reply.status !== 200) throw toError(reply);
    return JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
  }

  /** POST /admin/repair on one node: starts a Merkle anti-entropy repair there (admin_repair.ts). */
  async startRepair(options: { keyspace?: string; start?: string; end?: string } = {}, node = 0): Promise<Record<string, unknown>> {
    const q = Object.entries(options).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(v!)}`);
    const reply = await this.send('POST', `/admin/repair${q.length > 0 ? `?${q.join('&')}` : ''}`, undefined, {}, node);
    if (reply.status !== 202) throw toError(reply);
    return JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
  }

  /** GET /admin/repair of one node: anti-entropy counters and the running and last repair's progress. */
  async repairStatus(node = 0): Promise<Record<string, unknown>> {
    const reply = await this.send('GET', '/admin/repair', undefined, {}, node);
    if (reply.status !== 200) throw toError(reply);
    return JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
  }

  /** Closes the pooled connections. */
  close(): void {
    for (const a of this.agents) a.destroy();
  }

  private keyPath(keyspace: string, key: Bytes, query: string[]): string {
    const k = toBytes(key);
    if (k.length === 0) throw new RingkvError('key must not be empty', 400, 'invalid', { definite: true });
    return `/kv/${encodeURIComponent(keyspace)}/${encodeKeyBytes(k)}${query.length > 0 ? `?${query.join('&')}` : ''}`;
  }

  private async send(method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}, pinned?: number): Promise<Reply> {
    let backoff = this.o.backoffMs;
    for (let attempt = 0; ; attempt++) {
      const i = pinned ?? this.next++ % this.nodes.length;
      let reply: Reply | null = null;
      let failure: Error | null = null;
      try {
        reply = await this.once(i, method, path, body, headers);
      } catch (err) {
        failure = err as Error;
      }
      const retriable = failure !== null || RETRY_STATUS.has(reply!.status);
      if (!retriable) return reply!;
      if (attempt >= this.o.retries) {
        if (reply !== null) return reply;
        throw new RingkvError(`${method} ${this.nodes[i]!.host}${path.split('?')[0]}: ${failure!.message}`, 0, 'connection', { definite: false });
      }
      const retryAfter = reply === null ? 0 : Number(reply.headers['retry-after'] ?? 0) * 1000;
      const wait = Math.min(this.o.maxBackoffMs, Math.max(backoff, Math.min(retryAfter, this.o.maxBackoffMs))) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, wait));
      backoff = Math.min(this.o.maxBackoffMs, backoff * 2);
    }
  }

  private once(i: number, method: string, path: string, body: Uint8Array | undefined, headers: Record<string, string>): Promise<Reply> {
    const node = this.nodes[i]!;
    const h: Record<string, string> = { ...headers };
    if (this.o.apiToken !== null) h.authorization = `Bearer ${this.o.apiToken}`;
    if (body !== undefined) h['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: node.hostname, port: node.port || 80, method, path: `${node.pathname.replace(/\/$/, '')}${path}`, headers: h, agent: this.agents[i], timeout: this.o.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function readQuery(o: ReadOptions): string[] {
  const q: string[] = [];
  if (o.consistency !== undefined) q.push(`consistency=${o.consistency}`);
  if (o.r !== undefined) q.push(`r=${o.r}`);
  return q;
}

function writeQuery(o: WriteOptions): string[] {
  const q: string[] = [];
  if (o.consistency !== undefined) q.push(`consistency=${o.consistency}`);
  if (o.w !== undefined) q.push(`w=${o.w}`);
  return q;
}

function contextHeaders(context: string | null | undefined): Record<string, string> {
  return context ? { [CONTEXT_HEADER]: context } : {};
}

function headerText(h: string | string[] | undefined): string | null {
  return typeof h === 'string' ? h : null;
}

function errorCode(reply: Reply): string | null {
  try {
    return (JSON.parse(reply.body.toString('utf8')) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

function toError(reply: Reply): RingkvError {
  try {
    const e = (JSON.parse(reply.body.toString('utf8')) as { error: { code: string; message: string; replied?: number; required?: number; definite?: boolean } }).error;
    return new RingkvError(e.message, reply.status, e.code, { replied: e.replied, required: e.required, definite: e.definite });
  } catch {
    return new RingkvError(`HTTP ${reply.status}`, reply.status, 'http');
  }
}
