const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g;

/**
 * Parses a Go-style duration (`90s`, `5m`, `1h30m`, `1.5h`, `0`) — the format Argo CD Image Updater's
 * `credsexpire` uses — into milliseconds. Returns `undefined` for anything else so the caller can report the
 * offending value with its own context.
 */
export function parseDurationMs(text: string): number | undefined {
  const value = text.trim();
  if (value === '0') return 0;
  if (!DURATION.test(value)) return undefined;
  let totalMs = 0;
  for (const [, amount, unit] of value.matchAll(PART)) {
    totalMs += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(totalMs) ? Math.round(totalMs) : undefined;
}
