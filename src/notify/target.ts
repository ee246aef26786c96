/**
 * A notifier's URL: checked once when it is added, then kept sealed. Slack's incoming-webhook URLs carry
 * their secret in the path, and a generic webhook's may carry a token or a password, so nothing but the
 * scheme and host ever leaves the store in the clear (`display`), and every error text or answer that
 * might repeat the URL is scrubbed (`scrub`) before it is logged, stored or shown.
 */
import { fail } from '../errors/catalogue.ts';

export const URL_MAX_LENGTH = 2048;

/** The URL as berth posts to it: http(s), with a host, no fragment. NOTIFIER_URL_INVALID naming `field` otherwise. */
export function checkTargetUrl(text: string, field: string): URL {
  if (text.length > URL_MAX_LENGTH) throw fail('NOTIFIER_URL_INVALID', { field, reason: `it is longer than ${URL_MAX_LENGTH} characters` });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(text)) throw fail('NOTIFIER_URL_INVALID', { field, reason: 'it contains spaces or control characters' });
  const url = URL.parse(text);
  if (!url) throw fail('NOTIFIER_URL_INVALID', { field, reason: 'it is not a URL' });
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail('NOTIFIER_URL_INVALID', { field, reason: `the scheme is ${JSON.stringify(url.protocol.slice(0, 20))}, and only http: and https: are posted to` });
  }
  if (url.hostname === '') throw fail('NOTIFIER_URL_INVALID', { field, reason: 'it has no host' });
  url.hash = '';
  return url;
}

/** What `berth notify list` shows: `https://hooks.slack.com/…` (scheme and host, never path, query or user). */
export function display(url: URL): string {
  return `${url.protocol}//${url.host}/…`;
}

/** The text with every spelling of the URL's secret parts replaced: the full URL, its path and query, its password. */
export function scrub(text: string, url: URL): string {
  const secrets = [url.href, `${url.pathname}${url.search}`, url.pathname, url.search, url.password, url.username, decoded(url.pathname)]
    .filter((s) => s.length > 1)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('…');
  return out;
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
