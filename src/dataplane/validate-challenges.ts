import type { AcmeChallenges } from './route-table.ts';

/** Bounds of the challenge map: a few names are validated at a time, each for seconds. */
export const CHALLENGE_LIMITS = { count: 1000, tokenLength: 256, keyAuthorizationLength: 512 };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Checks an ACME HTTP-01 answer map received over the wire (RFC 8555 8.3): each token base64url, each
 * answer `<token>.<base64url account-key thumbprint>`. Returns the problems (empty when sound).
 */
export function challengeProblems(value: unknown): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return ['challenges must be an object { token: keyAuthorization }'];
  const entries = Object.entries(value);
  if (entries.length > CHALLENGE_LIMITS.count) return [`challenges has ${entries.length} tokens, more than the limit of ${CHALLENGE_LIMITS.count}`];
  const problems: string[] = [];
  for (const [token, answer] of entries) {
    const shown = JSON.stringify(token.slice(0, 60));
    if (token.length > CHALLENGE_LIMITS.tokenLength || !BASE64URL.test(token)) {
      problems.push(`challenge token ${shown} must be 1 to ${CHALLENGE_LIMITS.tokenLength} base64url characters`);
      continue;
    }
    const ok = typeof answer === 'string' && answer.length <= CHALLENGE_LIMITS.keyAuthorizationLength && answer.startsWith(`${token}.`);
    if (!ok || !BASE64URL.test(answer.slice(token.length + 1))) {
      problems.push(`challenges[${shown}] must be the key authorization "<token>.<account key thumbprint>", base64url, at most ${CHALLENGE_LIMITS.keyAuthorizationLength} characters`);
    }
  }
  return problems;
}

/** A validated map as the HTTP listener reads it: a Map, so no token can be an object's own property name. */
export const challengeMap = (challenges: AcmeChallenges): Map<string, string> => new Map(Object.entries(challenges));
