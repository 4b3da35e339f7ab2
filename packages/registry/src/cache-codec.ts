/**
 * The value and TTL rules of the {@link Cache} contract, shared by every backend so that they refuse the same
 * inputs with the same words. Each backend passes `fail`, which builds its own error type from the message.
 */

/** Builds a backend's error for a refused input. */
export type CacheInputFailure = (message: string, cause?: unknown) => Error;

/**
 * Serialises a cache value to JSON, refusing anything that would not come back equal: a silent lossy
 * conversion (a dropped function, `NaN` turned into `null`, a `Map` turned into `{}`) would hand the caller a
 * different value on the next `get`.
 */
export function encodeCacheValue(value: unknown, fail: CacheInputFailure): string {
  if (value === undefined) throw fail('cannot store undefined, because get() answers undefined for a miss; store null instead');
  let json: string | undefined;
  try {
    json = stringify(value);
  } catch (error) {
    if (error instanceof RefusedValue) throw fail(error.message);
    throw fail(`the value is not JSON-serialisable (${(error as Error).message}); store plain data only`, error);
  }
  // A top-level function or symbol is already caught by the replacer; this guards toJSON() returning undefined.
  if (json === undefined) throw fail('the value serialises to nothing (its toJSON() returned undefined); store plain data only');
  return json;
}

// JSON.stringify answers undefined for a top-level value with no JSON form, which its declared type omits.
function stringify(value: unknown): string | undefined {
  return JSON.stringify(value, checkJsonValue);
}

// Thrown inside JSON.stringify's replacer and turned into the backend's error outside it.
class RefusedValue extends Error {}

function checkJsonValue(this: unknown, key: string, value: unknown): unknown {
  const where = key === '' ? 'the value' : `property ${JSON.stringify(key)}`;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new RefusedValue(`${where} is ${String(value)}, which JSON cannot represent; store a finite number or null`);
      return value;
    case 'undefined':
      // Omitting an undefined property is what JSON does and loses nothing; in an array it would become null.
      if (Array.isArray(this)) throw new RefusedValue(`array element ${key} is undefined, which JSON would turn into null; store null instead`);
      return value;
    case 'object': {
      if (value === null || Array.isArray(value)) return value;
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return value;
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new RefusedValue(`${where} is a ${kind}, which JSON would not restore; convert it to a plain object or array`);
    }
    default:
      throw new RefusedValue(`${where} is a ${typeof value}, which JSON cannot represent; store plain data only`);
  }
}

/** Checks a TTL given to `set` or as a default; `where` names where it came from (`ttlMs`, `the ttlMs option`). */
export function checkCacheTtlMs(ttlMs: unknown, where: string, fail: CacheInputFailure): number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw fail(`${where} must be a positive integer number of milliseconds, got ${quoteCacheInput(ttlMs)}`);
  }
  return ttlMs;
}

/** Quotes a bad input for an error message without dumping a large value. */
export function quoteCacheInput(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'bigint') return `${String(value)}n`;
  return String(value);
}
