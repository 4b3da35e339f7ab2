// Reading the old pipeline's YAML the way its Go tools did, with a location for every problem. Both tools
// decode into Go strings, so a tag written `1.10` is the string "1.10", never the number 1.1: the file is
// parsed with YAML's failsafe schema (every scalar a string) and nulls and booleans are recognised by hand.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import { SyncError } from '../errors.ts';
import type { ConfigIssue } from '../types.ts';

/** A key path in the input file: map keys and sequence indices. */
export type InputPath = readonly (string | number)[];

/** One `key: value` of a mapping in the input. */
export interface InputEntry {
  readonly key: string;
  readonly keyNode: Node;
  /** `null` for a key without a value (`nginx:`). */
  readonly value: Node | null;
  readonly path: InputPath;
}

const identifier = /^[A-Za-z_][\w-]*$/;

/**
 * Formats an input path: identifier keys with dots, other keys (registries, repositories) quoted in
 * brackets, indices in brackets: `["docker.io"].images["bitnami/postgresql"][1]`, `[3].semver`.
 */
export function formatInputPath(path: InputPath): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (identifier.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

const nullWords = new Set(['', '~', 'null', 'Null', 'NULL']);
const trueWords = new Set(['true', 'True', 'TRUE']);
const falseWords = new Set(['false', 'False', 'FALSE']);

/** A parsed input file that collects located problems and warnings. */
export class InputFile {
  readonly file: string;
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  readonly #doc: Document;
  readonly #lines = new LineCounter();

  constructor(file: string, text: string) {
    this.file = file;
    this.#doc = parseDocument(text, { lineCounter: this.#lines, schema: 'failsafe', prettyErrors: false, uniqueKeys: true });
    for (const error of this.#doc.errors) {
      // The parser's first line only: the rest quotes the source line, which may hold a credential.
      const message = error.code === 'DUPLICATE_KEY' ? 'duplicate key: YAML keeps only one of them; write each key once' : (error.message.split('\n')[0] ?? error.message);
      this.issues.push(this.#locate(error.pos[0], [], message));
    }
  }

  /** The document's root node; `null` for an empty file. */
  get root(): Node | null {
    return this.#resolve(this.#doc.contents);
  }

  #locate(offset: number | undefined, path: InputPath, message: string): ConfigIssue {
    const position = offset === undefined ? undefined : this.#lines.linePos(offset);
    return { file: this.file, line: position?.line, column: position?.col, path: formatInputPath(path), message };
  }

  #resolve(node: unknown): Node | null {
    let current = node;
    // An alias (`*name`) stands for the node its anchor marks; Go's decoder reads it the same way.
    for (let hops = 0; isAlias(current) && hops < 100; hops += 1) current = current.resolve(this.#doc);
    return (current ?? null) as Node | null;
  }

  /** The 1-based line of `node`, for messages and comments. */
  lineOf(node: Node | null): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.#lines.linePos(offset).line;
  }

  /** Records a problem at `node` (or the file when `null`). */
  problem(node: Node | null, path: InputPath, message: string): void {
    this.issues.push(this.#locate(node?.range?.[0], path, message));
  }

  /** Records a warning at `node`. */
  warn(node: Node | null, path: InputPath, message: string): void {
    this.warnings.push(this.#locate(node?.range?.[0], path, message));
  }

  /** True for a missing value or a plain `null`/`~`/empty scalar, which Go decodes as "not set". */
  isNull(node: Node | null): boolean {
    const resolved = this.#resolve(node);
    return resolved === null || (isScalar(resolved) && resolved.type === 'PLAIN' && nullWords.has(String(resolved.value)));
  }

  /** The entries of the mapping at `node`; records a problem and returns none when it is not a mapping. */
  entries(node: Node | null, path: InputPath, what: string): InputEntry[] {
    const resolved = this.#resolve(node);
    if (!isMap(resolved)) {
      this.problem(resolved, path, `expected ${what}, got ${this.describe(resolved)}`);
      return [];
    }
    const entries: InputEntry[] = [];
    for (const pair of resolved.items) {
      const keyNode = this.#resolve(pair.key);
      if (!isScalar(keyNode)) {
        this.problem(keyNode, path, `expected a plain key in ${what}, got ${this.describe(keyNode)}`);
        continue;
      }
      const key = String(keyNode.value);
      entries.push({ key, keyNode, value: this.#resolve(pair.value), path: [...path, key] });
    }
    return entries;
  }

  /** The items of the sequence at `node`; records a problem and returns none when it is not a sequence. */
  items(node: Node | null, path: InputPath, what: string): { node: Node | null; path: InputPath }[] {
    const resolved = this.#resolve(node);
    if (!isSeq(resolved)) {
      this.problem(resolved, path, `expected ${what}, got ${this.describe(resolved)}`);
      return [];
    }
    return resolved.items.map((item, index) => ({ node: this.#resolve(item), path: [...path, index] }));
  }

  /** The text of the scalar at `node`; records a problem and returns `undefined` for anything else. */
  text(node: Node | null, path: InputPath, what: string): string | undefined {
    const resolved = this.#resolve(node);
    if (isScalar(resolved) && !this.isNull(resolved)) return String(resolved.value);
    this.problem(resolved, path, `expected ${what}, got ${this.describe(resolved)}`);
    return undefined;
  }

  /** A YAML boolean as Go's decoder reads one into a `bool`; records a problem for anything else. */
  boolean(node: Node | null, path: InputPath): boolean | undefined {
    const resolved = this.#resolve(node);
    if (isScalar(resolved) && resolved.type === 'PLAIN') {
      const word = String(resolved.value);
      if (trueWords.has(word)) return true;
      if (falseWords.has(word)) return false;
    }
    this.problem(resolved, path, `expected true or false, got ${this.describe(resolved)}`);
    return undefined;
  }

  /**
   * How a node reads in a message: its kind, never its value. A value in the wrong place may be a credential
   * (`password: …` one level off), and the location already points at it.
   */
  describe(node: Node | null): string {
    const resolved = this.#resolve(node);
    if (this.isNull(resolved)) return 'nothing (null)';
    if (isMap(resolved)) return 'a mapping';
    if (isSeq(resolved)) return 'a list';
    if (isScalar(resolved)) return 'a string';
    return 'another kind of value';
  }

  /** Throws one `invalid_convert_input` error listing every problem, when there is any. */
  throwIfProblems(format: string): void {
    // In file order, whichever check found them.
    this.issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    const [first, ...rest] = this.issues;
    if (first === undefined) return;
    const lines = this.issues.map((issue) => `  ${formatIssue(issue)}`).join('\n');
    const count = rest.length === 0 ? 'a problem' : `${this.issues.length} problems`;
    throw new SyncError('invalid_convert_input', `cannot convert ${this.file} (${format}): ${count} that a team file cannot express or that the old tool would refuse; nothing was converted:\n${lines}`, {
      issues: [...this.issues],
      file: first.file,
      line: first.line,
      column: first.column,
      field: first.path,
      hints: {
        cli: 'fix or remove the entries listed, then run scanner convert again',
        config: 'fix or remove the entries listed, then convert again',
        library: 'fix or remove the entries listed in error.issues, then convert again',
      },
    });
  }
}

/** `file:line:column path: message`, the way config problems read. */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) where += `:${issue.line}`;
  if (issue.column !== undefined) where += `:${issue.column}`;
  return issue.path === '' ? `${where} ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}
