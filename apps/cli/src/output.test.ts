import { describe, expect, test } from 'vitest';
import { inspectTable, printable, selectTable, tagsTable } from './output.ts';

// break-scan F11: registry data (tags, labels, annotations) reached the terminal raw: a newline in a tag made
// a phantom line in `scanner tags`, an ESC/OSC sequence set the terminal's title.
describe('control characters from registry data are escaped in text output', () => {
  const hostile = '0.1\n9.9.9\u001b]0;pwned\u0007\u009b\u007f\t';

  test('printable escapes C0, DEL and C1 characters and leaves the rest', () => {
    expect(printable(hostile)).toBe('0.1\\n9.9.9\\x1b]0;pwned\\x07\\x9b\\x7f\\t');
    expect(printable('1.2.3-ü_ok')).toBe('1.2.3-ü_ok');
  });

  test('scanner tags: one line per tag, whatever a tag holds', () => {
    const text = tagsTable({ image: 'r/a', tags: ['1.0.0', hostile] });
    expect(text.split('\n')).toEqual(['1.0.0', '0.1\\n9.9.9\\x1b]0;pwned\\x07\\x9b\\x7f\\t', '']);
  });

  test('select and inspect tables', () => {
    const candidate = { tag: hostile, digest: null, createdAt: null, platforms: null };
    const select = selectTable({ image: 'r/a', selected: candidate, candidates: [candidate, { ...candidate, tag: '1.0.0' }], skipped: [] } as never);
    const inspect = inspectTable({ image: 'r/a', kind: 'manifest', mediaType: 'x', digest: 'sha256:1', created: null, platforms: [], labels: { [hostile]: hostile }, annotations: {} } as never);
    for (const text of [select, inspect]) {
      expect(Array.from(text).filter((char) => char !== '\n' && (char < ' ' || (char >= '\u007f' && char <= '\u009f')))).toEqual([]);
      expect(text).toContain('0.1\\n9.9.9\\x1b]0;pwned');
    }
  });
});
