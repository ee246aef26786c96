/** What the first byte of a connection to the TLS port says it is. */
export type Opening = 'tls' | 'http' | 'other';

/**
 * TLS begins with a handshake record (content type 22); an HTTP/1 request with its method's first letter
 * (methods are tokens, in practice uppercase letters). Anything else, SSLv2 hellos included, is refused.
 */
export function classifyOpening(firstByte: number): Opening {
  if (firstByte === 0x16) return 'tls';
  if (firstByte >= 0x41 && firstByte <= 0x5a) return 'http';
  return 'other';
}
