/** How a policy ranks tags. */
export type Strategy = 'semver' | 'newest-build' | 'alphabetical' | 'numerical' | 'digest';

/** Other names users bring from the peers: `latest` is `newest-build`; `name` and `lexical` are `alphabetical`. */
export type StrategyAlias = 'latest' | 'name' | 'lexical';

const strategyNames = ['semver', 'newest-build', 'alphabetical', 'numerical', 'digest'] as const;
const aliases: Readonly<Record<StrategyAlias, Strategy>> = { latest: 'newest-build', name: 'alphabetical', lexical: 'alphabetical' };

/** The strategies and their aliases, for error messages. */
export const strategyList = 'semver, newest-build (alias latest), alphabetical (aliases name, lexical), numerical, digest';

/** Resolves an alias to its strategy; `undefined` for an unknown name. */
export function resolveStrategy(name: string): Strategy | undefined {
  if ((strategyNames as readonly string[]).includes(name)) return name as Strategy;
  return Object.hasOwn(aliases, name) ? aliases[name as StrategyAlias] : undefined;
}

