// Invariant assertions that stay on in every build (as in TigerBeetle): a
// violated invariant is a crash with a message, which the simulator catches
// and reports against the seed that produced it.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

// The message is an argument, so a template literal is formatted on every
// call, pass or fail (a formatted float costs ~0.4 us). On per-event and
// per-request paths write `if (!cond) throw new AssertionError(`...`)` instead.
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(what: string): never {
  throw new AssertionError(`unreachable: ${what}`);
}
