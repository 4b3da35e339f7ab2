import { describe, expect, test } from 'vitest';
import { parseDurationMs } from './duration.ts';

describe('parseDurationMs', () => {
  test.each([
    ['0', 0],
    ['500ms', 500],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2h45m10s', 9_910_000],
    ['1500us', 2],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  test.each(['', '5', '5 minutes', 'm5', '1d', '-5m', '1h 30m', '.5h'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});
