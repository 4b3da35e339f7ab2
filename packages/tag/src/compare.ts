/**
 * Byte-wise comparison of the UTF-8 encodings of two strings (equivalently: by Unicode code point),
 * ascending. Unlike `<` on JavaScript strings, which compares UTF-16 code units, it puts U+FF01 before
 * U+1F600, as Go's string comparison (used by the peers) does.
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points) must sort above U+E000–U+FFFF: shift both ranges.
      x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
      y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const numberPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads a tag as a finite decimal number (`42`, `-3.5`, `1e3`, `1606234201`); `undefined` for anything
 * else, including `NaN`, `Infinity`, hexadecimal and numbers too large for a double (`1e999`).
 */
export function parseNumber(text: string): number | undefined {
  if (!numberPattern.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Numbers ascending; `-0` and `0` are equal. */
export function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function timeOf(date: Date | undefined): number | undefined {
  const time = date?.getTime();
  return time === undefined || Number.isNaN(time) ? undefined : time;
}

/**
 * Dates ascending, a missing or invalid date below every date: sorting descending puts the newest first and
 * the undated last.
 */
export function compareDates(a: Date | undefined, b: Date | undefined): number {
  const x = timeOf(a);
  const y = timeOf(b);
  if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
