/**
 * `berth certs [list|add|remove|renew]`: the TLS certificates the server serves, those it gets from ACME
 * and your own. `add` reads the certificate and key files here (bounded: a chain or a key is a few KiB,
 * and `/dev/zero` must not fill the memory), sends them once over the API, and never prints the key; the
 * server checks the pair before it keeps anything, and keeps the key sealed.
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { closest } from '../../manifest/suggest.ts';
import type { Certificate, CertificateAdded, CertificateList, CertificateRemoved } from '../../model/wire.ts';
import { commandHelp, parseCommandArgs, splitSubcommand, usageError, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT_USAGE } from '../errors.ts';
import { formatTable, orDash } from '../format.ts';
import { style as makeStyle, type Input, type Style } from '../io.ts';

/** The most read of a certificate or key file: the server takes 64 KiB of each. */
export const CERT_FILE_LIMIT = 64 * 1024;

const LIST: CommandSpec = {
  name: 'certs list',
  usage: 'berth certs [list]',
  summary: 'List the certificates the server serves: domain, source, status, issuer, expiry, app, last error.',
  details: [
    'SOURCE is acme (berth requests and renews it for a domain an app lists) or own (added with `berth certs add`). EXPIRES is the date and how long from now. LAST ERROR is why the last try failed; the certificate held, if any, keeps serving meanwhile.',
    '--json prints the API\'s `{ certificates }` (never a key).',
  ],
  flags: {},
  args: [],
};

const ADD: CommandSpec = {
  name: 'certs add',
  usage: 'berth certs add <domain> --cert FILE --key FILE',
  summary: 'Serve your own certificate for a domain (it takes the domain over from ACME).',
  details: [
    '<domain> is the hostname, or `*.example.com` for a wildcard certificate (quote it in the shell). --cert is the PEM file with the certificate first, then its intermediates (`fullchain.pem`); --key its private key, unencrypted (`openssl pkey -in key.pem -out plain.pem` decrypts one). `--key -` reads the key from stdin, so it need not sit in a file.',
    'The server checks the pair before it keeps anything (the key matches, the names cover the domain, the dates, the order of the chain) and says what is wrong. It keeps the key sealed and never shows it again. Adding again replaces the certificate; berth does not renew your own: add the new one before it expires. --json prints the API\'s `{ certificate, replaced }`.',
  ],
  flags: {
    cert: { type: 'string', value: 'FILE', doc: 'the certificate chain, PEM, leaf first' },
    key: { type: 'string', value: 'FILE', doc: 'its private key, PEM, unencrypted (`-`: read it from stdin)' },
  },
  args: ['<domain>'],
};

const REMOVE: CommandSpec = {
  name: 'certs remove',
  usage: 'berth certs remove <domain>',
  summary: 'Delete a domain\'s certificate; an app that lists the domain gets one from ACME again.',
  details: ['--json prints the API\'s `{ removed, source, listedBy }`.'],
  flags: {},
  args: ['<domain>'],
};

const RENEW: CommandSpec = {
  name: 'certs renew',
  usage: 'berth certs renew <domain>',
  summary: 'Renew an ACME certificate now (the one held serves until the new one is issued).',
  details: ['Your own certificates are renewed by their CA: add the new one with `berth certs add`. --json prints the API\'s `Certificate`.'],
  flags: {},
  args: ['<domain>'],
};

const SUBCOMMANDS: Record<string, CommandSpec> = { list: LIST, add: ADD, remove: REMOVE, renew: RENEW };

export const spec: CommandSpec = {
  name: 'certs',
  usage: 'berth certs [list|add|remove|renew] ...',
  summary: 'List the TLS certificates, add your own, remove or renew one.',
  details: Object.values(SUBCOMMANDS).map((sub) => `${sub.usage}\n  ${sub.summary}`),
  flags: { ...ADD.flags },
  args: ['[list|add|remove|renew]'],
};

export type CertsArgs =
  | { globals: Globals; sub: 'list' }
  | { globals: Globals; sub: 'add'; domain: string; cert: string; key: string }
  | { globals: Globals; sub: 'remove' | 'renew'; domain: string };

function subcommandSpec(sub: string): CommandSpec {
  const found = SUBCOMMANDS[sub];
  if (found) return found;
  const guess = closest(sub, Object.keys(SUBCOMMANDS));
  throw usageError(spec, `unknown certs subcommand "${sub}"`, guess ? `did you mean \`berth certs ${guess}\`?` : 'use list, add, remove or renew');
}

export function parse(argv: string[]): CertsArgs {
  const { sub = 'list', rest } = splitSubcommand(argv, spec.flags);
  const { flags, positionals, globals } = parseCommandArgs(subcommandSpec(sub), rest);
  if (sub === 'list' || globals.help || globals.version) return { globals, sub: 'list' };
  const domain = positionals[0];
  if (sub === 'remove' || sub === 'renew') return { globals, sub, domain };
  const cert = flags.cert as string | undefined;
  const key = flags.key as string | undefined;
  if (cert === undefined) throw usageError(ADD, 'add needs --cert FILE: the certificate, then its intermediates, as PEM');
  if (key === undefined) throw usageError(ADD, 'add needs --key FILE: the certificate\'s private key as PEM (`--key -` reads it from stdin)');
  if (cert === '-' && key === '-') throw usageError(ADD, 'only one of --cert and --key can come from stdin', 'give the certificate as a file: --cert fullchain.pem --key -');
  return { globals, sub: 'add', domain, cert, key };
}

export function helpFor(argv: string[]): string {
  const { sub } = splitSubcommand(argv, spec.flags);
  return commandHelp(sub === undefined ? spec : subcommandSpec(sub));
}

/** A file (or stdin for `-`) as text, refused past CERT_FILE_LIMIT bytes without reading further. */
export async function readCertFile(path: string, what: string, ctx: Pick<Context, 'io'>): Promise<string> {
  const bytes = path === '-' ? await readBounded(ctx.io.stdin, what) : await readFileBounded(resolve(ctx.io.cwd, path), path, what);
  if (bytes.length === 0) throw new CliError(`the ${what} ${path === '-' ? 'from stdin' : `file ${path}`} is empty`, `give the PEM file of the ${what}`, EXIT_USAGE);
  return bytes.toString('utf8');
}

const tooLarge = (name: string, what: string) =>
  new CliError(`${name} is larger than ${CERT_FILE_LIMIT / 1024} KiB, more than a ${what} holds`, `is it the right file? A ${what} in PEM is a few KiB`, EXIT_USAGE);

async function readFileBounded(path: string, shown: string, what: string): Promise<Buffer> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CliError(`cannot read the ${what} file ${shown}: ${reason}`, `give the path of the ${what} as PEM`, EXIT_USAGE);
  }
  try {
    const buffer = Buffer.alloc(CERT_FILE_LIMIT + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > CERT_FILE_LIMIT) throw tooLarge(shown, what);
    return buffer.subarray(0, filled);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read the ${what} file ${shown}: ${(error as Error).message}`, `give the path of the ${what} as PEM`, EXIT_USAGE);
  } finally {
    await file.close();
  }
}

async function readBounded(input: Input, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > CERT_FILE_LIMIT) throw tooLarge('stdin', what);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** `3 days`, `5 hours`, `12 minutes`: the largest unit that gives at least 2 (else minutes). */
export function spanText(ms: number): string {
  if (ms >= 2 * DAY) return plural(Math.floor(ms / DAY), 'day');
  if (ms >= 2 * HOUR) return plural(Math.floor(ms / HOUR), 'hour');
  return plural(Math.max(1, Math.floor(ms / MINUTE)), 'minute');
}

/** `2027-03-07 (in 63 days)`, `2026-01-01 (expired 3 days ago)`; yellow within 14 days, red once expired. */
export function expiresText(iso: string | null, now: number, style: Style): string {
  if (iso === null) return '-';
  const left = Date.parse(iso) - now;
  if (!Number.isFinite(left)) return iso;
  const date = iso.slice(0, 10);
  if (left <= 0) return style.red(`${date} (expired ${spanText(-left)} ago)`);
  const text = `${date} (in ${spanText(left)})`;
  return left < 14 * DAY ? style.yellow(text) : text;
}

export function statusText(cert: Certificate, now: number, style: Style): string {
  const retry = cert.status !== 'issued' && cert.nextAttemptAt && Date.parse(cert.nextAttemptAt) > now ? `, retry in ${spanText(Date.parse(cert.nextAttemptAt) - now)}` : '';
  if (cert.status === 'issued') return style.green('issued');
  return (cert.status === 'failed' ? style.red('failed') : style.cyan('pending')) + retry;
}

/**
 * Text from elsewhere (a CA's error, an issuer's name) as one table cell: control characters (a terminal
 * escape included) become spaces, runs of space one, and it is cut at `width` characters.
 */
export function oneLine(text: string, width: number): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length <= width ? flat : `${chars.slice(0, width - 1).join('')}…`;
}

export function formatCerts(certs: Certificate[], now: number, style: Style): string {
  if (certs.length === 0) {
    return 'no certificates: berth requests them from ACME for the `domains` apps list; add your own with `berth certs add DOMAIN --cert FILE --key FILE`\n';
  }
  const rows = certs.map((cert) => [
    cert.domain,
    cert.source,
    statusText(cert, now, style),
    cert.issuer === null ? '-' : oneLine(cert.issuer, 40),
    expiresText(cert.notAfter, now, style),
    orDash(cert.app),
    cert.lastError ? oneLine(`${cert.lastError.code}: ${cert.lastError.message}`, 80) : '-',
  ]);
  return formatTable(['DOMAIN', 'SOURCE', 'STATUS', 'ISSUER', 'EXPIRES', 'APP', 'LAST ERROR'], rows, style);
}

function addedText(body: CertificateAdded, now: number): string {
  const { certificate: cert, replaced } = body;
  const expires = expiresText(cert.notAfter, now, makeStyle(false));
  const over = replaced === 'acme' ? '; it replaces the certificate from ACME, which berth no longer renews for it' : replaced === 'own' ? '; it replaces your earlier one' : '';
  return `added your certificate for ${cert.domain}: issued by ${oneLine(cert.issuer ?? '-', 80)}, expires ${expires}${over}. The key is kept sealed; renew it with its CA and add the new one before it expires\n`;
}

function removedText(body: CertificateRemoved): string {
  const whose = body.source === 'own' ? 'your certificate' : 'the ACME certificate';
  const then = body.acme
    ? `app ${body.listedBy} lists ${body.removed} in its domains, so berth requests a new certificate from ACME for it`
    : body.listedBy
      ? `app ${body.listedBy} lists it, but berth asks ACME nothing for it (a wildcard, or another of your certificates covers it)`
      : 'no app lists it, so berth asks ACME nothing for it';
  return `removed ${whose} for ${body.removed}: ${then}\n`;
}

export async function run(args: CertsArgs, ctx: Context): Promise<number> {
  const write = (json: unknown, text: string) => ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(json, null, 2) + '\n' : text);
  if (args.sub === 'add') {
    // Both read before anything is sent: a missing key file fails here, not half-way.
    const cert = await readCertFile(args.cert, 'certificate', ctx);
    const key = await readCertFile(args.key, 'private key', ctx);
    const client = await ctx.client();
    const body = await client.request<CertificateAdded>('POST', '/v1/certs', { body: { domain: args.domain, cert, key } });
    write(body, addedText(body, ctx.now()));
    return 0;
  }
  const client = await ctx.client();
  if (args.sub === 'list') {
    const body = await client.get<CertificateList>('/v1/certs');
    write(body, formatCerts(body.certificates, ctx.now(), ctx.out));
    return 0;
  }
  const path = `/v1/certs/${encodeURIComponent(args.domain)}`;
  if (args.sub === 'remove') {
    const body = await client.request<CertificateRemoved>('DELETE', path);
    write(body, removedText(body));
    return 0;
  }
  const body = await client.request<Certificate>('POST', `${path}/renew`);
  write(body, `renewal of ${body.domain} asked for: berth requests a new certificate from ACME now, and the one held serves until it is issued (\`berth certs\` shows how it goes)\n`);
  return 0;
}
