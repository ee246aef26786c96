/**
 * `berth logs --grep`: which lines a pattern keeps. A plain substring, never a regular expression: the
 * pattern comes from a client and runs over every stored line on the server, and a user regex there is a
 * ReDoS waiting to happen (a substring search is linear). Smart case, as ripgrep's --smart-case: a
 * pattern with no upper-case letter matches case-insensitively, one with an upper-case letter exactly.
 * Lines are matched as stored, already masked: a secret's value never matches, so grep is no oracle for it.
 */

export { MAX_GREP_LENGTH } from '../model/wire-logs.ts';

export type LineMatch = (line: string) => boolean;

export function grepMatcher(pattern: string): LineMatch {
  if (pattern.toLowerCase() !== pattern) return (line) => line.includes(pattern);
  return (line) => line.toLowerCase().includes(pattern);
}
