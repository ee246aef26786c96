/** `domains`: the hostnames routed to `web` besides <name>.<base domain>. */
import { s } from '../schema-dsl.ts';

/** Lowercase DNS name of two or more labels, optionally `*.`-prefixed; the last label starts with a letter, which rules out IP addresses. */
export const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const domains = s.array({
  doc: 'Extra hostnames routed to `web`; the app is always served at <name>.<base domain> as well.',
  items: s.string({
    doc: 'A hostname.',
    type: 'hostname',
    example: 'example.com',
    maxLength: 253,
    pattern: HOSTNAME,
    patternHint: 'a lowercase DNS name such as `example.com` or `*.example.com`',
    // People paste URLs: keep just the host.
    suggest: (text) => text.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[/:?#].*$/, '').replace(/\.$/, ''),
  }),
  unique: true,
  maxItems: 100,
  default: [],
  example: ['example.com', 'www.example.com'],
});
