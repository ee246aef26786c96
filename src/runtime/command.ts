// Words made only of these characters mean the same to sh and to execvp, so no shell is needed.
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * argv for a command line: split on spaces when the shell would do nothing else, so signals reach the app
 * itself rather than a `sh` in between; otherwise `sh -c`. A leading `NAME=value` is an env assignment to
 * the shell, so it goes through sh too. Shared by every runtime that starts commands.
 */
export function commandArgv(command: string): string[] {
  const words = command.trim().split(/\s+/).filter(Boolean);
  const plain = words.length > 0 && words.every((w) => PLAIN_WORD.test(w)) && !words[0].includes('=');
  return plain ? words : ['sh', '-c', command];
}
