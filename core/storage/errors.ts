// Errors the storage engine reports to its callers.

/** Stored bytes failed a checksum or do not parse: reported, never returned as data. */
export class CorruptionError extends Error {
  override name = 'CorruptionError';
  constructor(
    message: string,
    /** The file the corruption was found in, when known. */
    readonly file?: string,
  ) {
    super(file ? `${file}: ${message}` : message);
  }
}

/** A request the engine refuses before touching anything (oversized key, bad TTL...). */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

/** The engine is closed, or stopped after a fatal disk error. */
export class EngineClosedError extends Error {
  override name = 'EngineClosedError';
}
