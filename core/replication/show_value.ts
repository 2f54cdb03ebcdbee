// Describing untrusted input in error messages. String(x) is not safe on
// values parsed from a client or a peer: an object whose toString is not a
// function makes it throw.

export function showValue(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint' || x === null || x === undefined) return `${x}`;
  return `<${typeof x}>`;
}
