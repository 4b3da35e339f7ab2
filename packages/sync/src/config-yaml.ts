// A parsed YAML file that can say where a key path sits: every config problem is reported as
// `file:line:column key.path: message`, so each one must be traced back to the text.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ConfigIssue } from './types.ts';

/** A key path as zod reports it: map keys and sequence indices. */
export type KeyPath = readonly PropertyKey[];

/** One parsed config file with its position lookups. */
export interface YamlSource {
  readonly file: string;
  readonly text: string;
  /** The file's content as plain data; `undefined` when empty or unreadable. */
  readonly value: unknown;
  /** YAML syntax problems (duplicate keys included), already located. */
  readonly syntaxIssues: readonly ConfigIssue[];
  /**
   * True when `value` could not be read because of `syntaxIssues`. Duplicate keys alone leave it readable (the
   * later key wins), so the rest of the file is still checked and every problem reported at once.
   */
  readonly unreadable: boolean;
  /** An issue at `path`, located at the node there (or the nearest ancestor that exists). */
  issueAt(path: KeyPath, message: string): ConfigIssue;
  /** An issue at the key `key` of the map at `path` (for unknown keys), located at the key itself. */
  issueAtKey(path: KeyPath, key: string, message: string): ConfigIssue;
  /** The node's text as written, e.g. `1.10` for a number YAML read as 1.1. */
  sourceText(path: KeyPath): string | undefined;
}

/** Formats a key path the way config issues read: `images[0].tags[1].regexp`. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

function nodeAt(doc: Document, path: KeyPath): { node: Node | undefined; depth: number } {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (node !== undefined && node !== null && typeof node === 'object' && 'range' in node) return { node: node as Node, depth };
  }
  return { node: undefined, depth: 0 };
}

/** The key path of the innermost collection entry around `offset`, for syntax errors. */
function pathAt(doc: Document, offset: number): (string | number)[] {
  const path: (string | number)[] = [];
  let current: unknown = doc.contents;
  for (;;) {
    if (isMap(current)) {
      const pair = current.items.find((item) => {
        const start = isScalar(item.key) || isMap(item.key) || isSeq(item.key) ? item.key.range?.[0] : undefined;
        const value = item.value as Node | null;
        const end = value?.range?.[2] ?? (isScalar(item.key) ? item.key.range?.[2] : undefined);
        return start !== undefined && end !== undefined && start <= offset && offset <= end;
      });
      if (pair === undefined || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      current = pair.value;
    } else if (isSeq(current)) {
      const index = current.items.findIndex((item) => {
        const range = (item as Node | null)?.range;
        return range !== undefined && range !== null && range[0] <= offset && offset <= range[2];
      });
      if (index === -1) return path;
      path.push(index);
      current = current.items[index];
    } else {
      return path;
    }
  }
}

/**
 * Parses `text` as one YAML document. Syntax errors (and duplicate keys, which YAML forbids) become located
 * issues; their messages are the parser's, without the quoted source line (a line may hold a secret).
 */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const issue = (path: KeyPath, offset: number | undefined, message: string): ConfigIssue => {
    const at = offset === undefined ? { line: undefined, column: undefined } : position(offset);
    return { file, line: at.line, column: at.column, path: formatKeyPath(path), message };
  };
  const syntaxIssues = doc.errors.map((error) => {
    const offset = error.pos[0];
    if (error.code === 'MULTIPLE_DOCS') {
      return issue([], offset, 'a config file holds one YAML document, and a second one starts here (after "---"); put it in a file of its own');
    }
    const message = error.code === 'DUPLICATE_KEY' ? 'duplicate key; YAML keeps only one of them, so write each key once' : error.message.split('\n')[0] ?? error.message;
    return issue(pathAt(doc, offset), offset, message);
  });
  const unreadable = doc.errors.some((error) => error.code !== 'DUPLICATE_KEY');
  let value: unknown;
  if (!unreadable) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      syntaxIssues.push(issue([], 0, error instanceof Error ? error.message : String(error)));
    }
  }
  return {
    file,
    text,
    value,
    syntaxIssues,
    unreadable: unreadable || (syntaxIssues.length > 0 && value === undefined),
    issueAt(path, message) {
      const { node } = nodeAt(doc, path);
      return issue(path, node?.range?.[0] ?? 0, message);
    },
    issueAtKey(path, key, message) {
      const { node, depth } = nodeAt(doc, path);
      if (depth === path.length && isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === key);
        const keyNode = pair?.key as Node | undefined;
        const range = keyNode?.range;
        if (range !== undefined && range !== null) return issue([...path, key], range[0], message);
      }
      return issue([...path, key], node?.range?.[0] ?? 0, message);
    },
    sourceText(path) {
      const { node, depth } = nodeAt(doc, path);
      const range = depth === path.length ? node?.range : undefined;
      return range === undefined || range === null ? undefined : text.slice(range[0], range[1]);
    },
  };
}
