/**
 * The two untrusted texts of the registry auth flow, parsed strictly and bounded (pure):
 * `WWW-Authenticate` challenges (RFC 7235: `Bearer realm="...",service="...",scope="..."`, `Basic
 * realm="..."`) and the token service's JSON answer (`{token | access_token, expires_in, issued_at}`,
 * https://distribution.github.io/distribution/spec/auth/token/).
 */

export interface Challenge {
  /** Lowercase: `bearer`, `basic`. */
  scheme: string;
  /** Lowercase parameter names; a null-prototype object. */
  params: Record<string, string>;
}

/** Header values longer than this are not parsed (Node already caps all headers at 16 KiB). */
const HEADER_MAX = 8192;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Every challenge in the header, in order; [] when it is missing or cannot be read. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : header;
  if (!text || text.length > HEADER_MAX) return [];
  const out: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < text.length && chars.test(text[i])) i++;
  };
  const token = () => {
    const start = i;
    while (i < text.length && TOKEN_CHAR.test(text[i])) i++;
    return text.slice(start, i);
  };
  // Is an auth-param (name = token or "quoted") next, rather than a new scheme or a token68 (`dG9rZW4=`)?
  const paramAhead = () => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=[ \t]*["!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text.slice(i, i + 256));
  while (i < text.length) {
    skip(/[ \t,]/);
    const scheme = token().toLowerCase();
    if (!scheme) return out;
    const params = Object.create(null) as Record<string, string>;
    out.push({ scheme, params });
    skip(/[ \t]/);
    if (!paramAhead()) {
      // Nothing, or a token68 (`Negotiate dG9rZW4=`): registries use neither; on to the next challenge.
      while (i < text.length && text[i] !== ',') i++;
      continue;
    }
    while (i < text.length && paramAhead()) {
      const name = token().toLowerCase();
      skip(/[ \t]/);
      i++; // '='
      skip(/[ \t]/);
      let value = '';
      if (text[i] === '"') {
        i++;
        let closed = false;
        while (i < text.length) {
          const char = text[i++];
          if (char === '\\' && i < text.length) value += text[i++];
          else if (char === '"') {
            closed = true;
            break;
          } else value += char;
        }
        if (!closed) return out.slice(0, -1);
      } else value = token();
      params[name] = value;
      skip(/[ \t]/);
      if (text[i] !== ',') break;
      i++;
      skip(/[ \t,]/);
    }
  }
  return out;
}

export interface TokenAnswer {
  token: string;
  /** Seconds the token is valid, as the service says (at least 60, the spec's default). */
  expiresIn: number;
}

/** The token service's answer; throws with a short reason when it is not one. */
export function parseTokenAnswer(body: string): TokenAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error('the token service answered with something that is not JSON');
  }
  if (json === null || typeof json !== 'object') throw new Error('the token service answered with JSON that is not an object');
  const answer = json as { token?: unknown; access_token?: unknown; expires_in?: unknown };
  const token = typeof answer.token === 'string' && answer.token !== '' ? answer.token : answer.access_token;
  if (typeof token !== 'string' || token === '') throw new Error('the token service answered without a token');
  // A token goes into an Authorization header: visible ASCII only, so it cannot split or forge a header.
  if (token.length > 65536 || !/^[\x21-\x7e]+$/.test(token)) throw new Error('the token service answered with a token that is not printable ASCII');
  const expires = typeof answer.expires_in === 'number' && Number.isFinite(answer.expires_in) ? answer.expires_in : 60;
  return { token, expiresIn: Math.max(60, Math.min(expires, 24 * 3600)) };
}
