/**
 * A string as Go's strconv.Quote (`%q`) spells it, without the quotes: the Docker Engine echoes a
 * container's env that way in its errors ("... can't contain null(\x00): \"A=x\x00y\""), so a secret in
 * such an error is masked in this form too. Printable means Go's unicode.IsPrint: letters, marks,
 * numbers, punctuation, symbols and the ASCII space.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
/** Printable ASCII other than `"` and `\`: spelled as it is. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SHORT = new Map([['\x07', '\\a'], ['\b', '\\b'], ['\f', '\\f'], ['\n', '\\n'], ['\r', '\\r'], ['\t', '\\t'], ['\v', '\\v']]);

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export function goQuoted(value: string): string {
  if (PLAIN_ASCII.test(value)) return value;
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code < 0x7f) out += char;
    else if (SHORT.has(char)) out += SHORT.get(char);
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    // Only non-ASCII gets here: the Unicode property classes are costly to compile, so most values never need them.
    else if (PRINTABLE.test(char)) out += char;
    else if (code < 0x10000) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return out;
}
