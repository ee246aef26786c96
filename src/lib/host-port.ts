/** `127.0.0.1:8080`, `:8080`, `[::1]:80`, `8080` -> { host, port }; undefined when it is not one. */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): { host: string; port: number } | undefined {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  const host = match[1] ? match[1].replace(/^\[|\]$/g, '') : defaultHost;
  return { host, port };
}

export function formatHostPort(address: { host: string; port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
