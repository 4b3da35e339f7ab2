import { expect } from 'vitest';

/** The error a call threw or a promise rejected with, for plain assertions on `code` and `message`. */
export async function failure(action: Promise<unknown> | (() => unknown)): Promise<{ code?: unknown; message: string }> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    return error as { code?: unknown; message: string };
  }
  throw new Error('expected a failure');
}

/** Asserts that `action` fails with `code`, and with a message containing `message` when given. */
export async function expectFailure(action: Promise<unknown> | (() => unknown), code: string, message?: string): Promise<void> {
  const error = await failure(action);
  expect(error.code).toBe(code);
  if (message !== undefined) expect(error.message).toContain(message);
}
