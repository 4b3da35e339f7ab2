import type { InputFile } from './input.ts';

// The team file's rule for an owner: one line of at most 128 characters, no control characters, no space at
// either end. Checked here so that a conversion never writes a file the loader refuses.
const teamName = /^\S(?:[^\p{Cc}]{0,126}\S)?$/u;

/** `owner` when it is a team name the team file accepts; otherwise records a problem. */
export function checkOwner(input: InputFile, owner: string): string {
  if (typeof owner !== 'string' || !teamName.test(owner)) {
    input.problem(null, [], `the owner ${JSON.stringify(owner)} is not a team name: pass the owning team (--owner TEAM), e.g. "team-storage" (one line, at most 128 characters)`);
  }
  return owner;
}
