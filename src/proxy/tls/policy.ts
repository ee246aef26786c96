import { randomBytes } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';

/**
 * Mozilla's "intermediate" configuration: TLS 1.2 and 1.3 only; for 1.2, ECDHE key exchange with
 * AES-GCM or ChaCha20-Poly1305 (forward secrecy, AEAD), ECDSA before RSA; the server's preference wins.
 * TLS 1.3 suites are named too: a cipher list without them would turn TLS 1.3 off.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export const TLS_CURVES = 'X25519:prime256v1:secp384r1';

/** How long a resumable session lives (seconds): tickets and the session-ID cache alike. */
export const SESSION_LIFETIME_S = 300;

/**
 * The settings every secure context of one listener shares: the listener's own (which fixes protocol
 * versions and ciphers when the handshake starts) and each certificate's (picked by SNI). The ticket keys
 * are made once per process, so a ticket from one connection resumes on the next, whichever certificate.
 */
export function tlsPolicy(ticketKeys: Buffer = randomBytes(48)): SecureContextOptions {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
    ecdhCurve: TLS_CURVES,
    sessionIdContext: 'berth-proxy',
    sessionTimeout: SESSION_LIFETIME_S,
    ticketKeys,
  };
}
