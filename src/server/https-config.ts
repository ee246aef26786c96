/**
 * The HTTPS and ACME settings of `berth server` (`--https`, `--acme-*`), checked once at start-up like the
 * rest of ./config.ts: each bad value is reported under the flag or variable it came from, with a fix.
 */
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { parseHostPort } from '../lib/host-port.ts';
import type { AcmeConfig } from './config.ts';

/** One setting's text and how to report it (./config.ts `setting`). */
export interface Setting {
  text: string;
  bad(message: string, example: string, note?: string): void;
}

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

/** A CA file is a few certificates: anything larger is not one. */
const MAX_CA_BYTES = 1024 * 1024;

/** `--https HOST:PORT`, or `off`. */
export function httpsListener(setting: Setting): { host: string; port: number } | null {
  if (setting.text.trim().toLowerCase() === 'off') return null;
  const parsed = parseHostPort(setting.text);
  if (!parsed) setting.bad('is not HOST:PORT or off', '0.0.0.0:443', ' (443 needs root or cap_net_bind_service; `off` serves plain HTTP only)');
  return parsed ?? null;
}

export function acmeConfig(settings: { directory: Setting; email: Setting; ca: Setting; resolver: Setting; challengePort: Setting }): AcmeConfig {
  return {
    directoryUrl: directoryUrl(settings.directory),
    email: email(settings.email),
    ca: caFile(settings.ca),
    resolver: resolver(settings.resolver),
    challengePort: challengePort(settings.challengePort),
  };
}

function directoryUrl(setting: Setting): string {
  const text = setting.text.trim();
  if (text === 'staging') return LETS_ENCRYPT_STAGING;
  if (text === 'production' || text === 'letsencrypt') return LETS_ENCRYPT;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {}
  if (url?.protocol === 'https:' && text.length <= 2000) return url.href;
  setting.bad('is not the https:// URL of an ACME directory', 'staging', ` (Let's Encrypt's test CA; the default is its production CA, ${LETS_ENCRYPT})`);
  return LETS_ENCRYPT;
}

function email(setting: Setting): string | null {
  const text = setting.text.trim();
  if (text === '') return null;
  if (text.length <= 254 && /^[^\s@<>()",;:]+@[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)+$/.test(text)) return text;
  setting.bad('is not an email address', 'ops@example.com', ' (the CA writes there before a certificate expires)');
  return null;
}

/** The CA file's PEM, checked to hold at least one certificate. */
function caFile(setting: Setting): string | null {
  const path = setting.text.trim();
  if (path === '') return null;
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_CA_BYTES) {
      setting.bad(`is ${size} bytes, too large for a CA certificate file`, '/etc/berth/acme-ca.pem');
      return null;
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    setting.bad(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, '/etc/berth/acme-ca.pem', ' (a PEM file with the CA certificate the ACME server\'s TLS certificate chains to)');
    return null;
  }
  try {
    new X509Certificate(text);
    return text;
  } catch {
    setting.bad('holds no PEM certificate', '/etc/berth/acme-ca.pem', ' (a file with -----BEGIN CERTIFICATE-----)');
    return null;
  }
}

function resolver(setting: Setting): { host: string; port: number } | null {
  const text = setting.text.trim();
  if (text === '') return null;
  const parsed = parseHostPort(text);
  if (parsed && isIP(parsed.host) !== 0 && parsed.port > 0) return parsed;
  setting.bad('is not IP:PORT of a DNS server', '127.0.0.1:53', ' (an address, not a name: it is what resolves names)');
  return null;
}

function challengePort(setting: Setting): number | null {
  const text = setting.text.trim();
  if (text === '') return null;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (port >= 1 && port <= 65535) return port;
  setting.bad('is not a port number (1-65535)', '80', ' (the port the CA connects to, forwarded to berth\'s HTTP listener)');
  return null;
}
