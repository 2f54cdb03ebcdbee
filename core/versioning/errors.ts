// Errors the versioning layer reports to its callers. Bytes that come from a
// disk, a peer or a client never crash the node: they fail with one of these.

/** Stored or received version bytes (an HLC, a DVV state, a versioned value) do not parse. */
export class VersionFormatError extends Error {
  override name = 'VersionFormatError';
}

/** A causal context sent by a client is malformed; the request is refused before anything is written. */
export class InvalidContextError extends Error {
  override name = 'InvalidContextError';
}

/** Two versions of one key were stored under different conflict modes (a keyspace's mode is fixed at creation). */
export class ConflictModeMismatchError extends Error {
  override name = 'ConflictModeMismatchError';
}
