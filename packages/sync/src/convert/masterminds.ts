// The constraint grammar of Masterminds/semver v3 (what current skopeo's `images-by-semver` and the retagger's
// `semver` parse with `semver.NewConstraint`). A constraint Masterminds refuses makes skopeo drop the whole
// `images-by-semver` map of that registry and the retagger skip the entry, so `convert` must refuse it too
// instead of turning it into a rule that selects tags the old pipeline never copied.
// Written from the grammar in Masterminds/semver `constraints.go` (v3); matching uses the selection of
// `@scanner/version`, whose differences from Masterminds are listed in the sync README.

// A version in a constraint: `v` prefix, one to three parts that may be wildcards, prerelease, build.
const VERSION = String.raw`v?[0-9xX*]+(?:\.[0-9xX*]+)?(?:\.[0-9xX*]+)?(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?`;
// The operators, the empty one (a bare version) included.
const OPERATOR = '(?:!=|>=|=>|<=|=<|~>|>|<|=|~|\\^|)';
const CONDITION = String.raw`${OPERATOR}\s*${VERSION}\s*`;
// One `||` alternative: conditions joined by whitespace or a comma (both mean AND).
const ALTERNATIVE = new RegExp(String.raw`^\s*${CONDITION}(?:(?:\s+|,\s*)${CONDITION})*$`);
// `1.2 - 1.4.5`, rewritten by Masterminds to `>= 1.2, <= 1.4.5` before validation.
const HYPHEN_RANGE = new RegExp(String.raw`\s*(${VERSION})\s+-\s+(${VERSION})\s*`, 'g');

/**
 * Why Masterminds/semver v3 `NewConstraint` refuses `constraint`, or `undefined` when it accepts it.
 * Accepted: the operators `=`, `!=`, `>`, `<`, `>=`, `=>`, `<=`, `=<`, `~`, `~>`, `^` or none, versions with
 * `v`, one to three parts and `x`/`X`/`*` wildcards, conditions joined by spaces or commas (AND), `||` (OR)
 * and hyphen ranges `1.2 - 1.4.5`.
 */
export function mastermindsConstraintProblem(constraint: string): string | undefined {
  const rewritten = constraint.replace(HYPHEN_RANGE, (_match, low: string, high: string) => ` >= ${low}, <= ${high} `);
  for (const alternative of rewritten.split('||')) {
    if (!ALTERNATIVE.test(alternative)) {
      const shown = alternative.trim();
      return shown === ''
        ? `Masterminds/semver (skopeo, retagger) refuses "${constraint}": an alternative around "||" is empty`
        : `Masterminds/semver (skopeo, retagger) refuses "${constraint}": "${shown}" is not a constraint such as ">= 1.2", "~1.2.3", "^2" or "1.2 - 1.4"`;
    }
  }
  return undefined;
}

/** True when a condition of `constraint` names a prerelease (`>=1.0.0-rc.1`), which changes which prereleases match. */
export function namesPrerelease(constraint: string): boolean {
  // A hyphen range has spaces around its `-`, so a digit directly before `-` starts a prerelease.
  return /[0-9xX*]-[0-9A-Za-z]/.test(constraint);
}
