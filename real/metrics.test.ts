import { describe, expect, it } from 'vitest';
import { NodeMetrics } from './metrics.ts';

function metrics(): NodeMetrics {
  return new NodeMetrics({
    nodeId: 'n1',
    pendingHints: () => new Map([['n2', 3]]),
    engineStats: () => null,
    engineActivity: () => null,
    peers: () => [],
    network: () => ({ framesReceived: 0, bytesReceived: 0, connectionsAccepted: 0, connectionsRejected: 0, framesToUnknownNode: 0, framesBeforeHandler: 0 }),
    marks: () => new Map(),
  });
}

describe('NodeMetrics', () => {
  it('counts requests and statuses per label set, each series on its own', async () => {
    const m = metrics();
    for (let i = 0; i < 3; i++) m.observeRequest('put', 'QUORUM', 'ok', 0.002);
    m.observeRequest('put', 'QUORUM', 'unavailable', 0.3);
    m.observeRequest('get', 'ONE', 'ok', 0.0004);
    for (let i = 0; i < 4; i++) m.observeHttpStatus(204);
    m.observeHttpStatus(503);
    const text = await m.text();
    expect(text).toMatch(/ringkv_requests_total\{op="put",consistency="QUORUM",outcome="ok",node="n1"\} 3\n/);
    expect(text).toMatch(/ringkv_requests_total\{op="put",consistency="QUORUM",outcome="unavailable",node="n1"\} 1\n/);
    expect(text).toMatch(/ringkv_requests_total\{op="get",consistency="ONE",outcome="ok",node="n1"\} 1\n/);
    expect(text).toMatch(/ringkv_request_duration_seconds_count\{node="n1",op="put",consistency="QUORUM"\} 4\n/);
    expect(text).toMatch(/ringkv_request_duration_seconds_bucket\{le="0.0025",node="n1",op="put",consistency="QUORUM"\} 3\n/);
    expect(text).toMatch(/ringkv_request_duration_seconds_bucket\{le="0.0005",node="n1",op="get",consistency="ONE"\} 1\n/);
    // buckets are cumulative: the 0.3 s request falls in le=0.5, not le=0.25
    expect(text).toMatch(/ringkv_request_duration_seconds_bucket\{le="0.25",node="n1",op="put",consistency="QUORUM"\} 3\n/);
    expect(text).toMatch(/ringkv_request_duration_seconds_bucket\{le="0.5",node="n1",op="put",consistency="QUORUM"\} 4\n/);
    expect(text).toMatch(/ringkv_request_duration_seconds_bucket\{le="\+Inf",node="n1",op="put",consistency="QUORUM"\} 4\n/);
    expect(text).toMatch(/ringkv_request_duration_seconds_sum\{node="n1",op="get",consistency="ONE"\} 0.0004\n/);
    expect(text).toMatch(/ringkv_http_responses_total\{status="204",node="n1"\} 4\n/);
    expect(text).toMatch(/ringkv_http_responses_total\{status="503",node="n1"\} 1\n/);
    expect(text).toMatch(/ringkv_hints_pending\{target="n2",node="n1"\} 3\n/);
    // a second scrape reports the same totals, not doubled ones
    const again = await m.text();
    expect(again).toMatch(/ringkv_requests_total\{op="put",consistency="QUORUM",outcome="ok",node="n1"\} 3\n/);
    expect(again).toMatch(/ringkv_http_responses_total\{status="204",node="n1"\} 4\n/);
    expect(again).toMatch(/ringkv_request_duration_seconds_count\{node="n1",op="put",consistency="QUORUM"\} 4\n/);
  });
});
