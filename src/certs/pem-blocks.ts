/**
 * The PEM blocks of a text (`-----BEGIN LABEL-----` ... `-----END LABEL-----`), found with indexOf in one
 * pass: linear in the text, whatever it holds. Text around the blocks (`Bag Attributes`, `subject=` lines
 * that some tools print) is skipped, as OpenSSL skips it.
 */
export interface PemBlock {
  /** `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`, ... */
  label: string;
  /** The block from its BEGIN line to its END line; a block without its END line runs to the end of the text. */
  pem: string;
}

const BEGIN = '-----BEGIN ';
const DASHES = '-----';
const LABEL = /^[A-Z0-9][A-Z0-9 ]{0,63}$/;

/** At most `max` blocks, in order. A BEGIN line with a label that is no PEM label is skipped. */
export function pemBlocks(text: string, max: number): PemBlock[] {
  const blocks: PemBlock[] = [];
  let at = 0;
  while (blocks.length < max) {
    const begin = text.indexOf(BEGIN, at);
    if (begin < 0) break;
    const labelStart = begin + BEGIN.length;
    const labelEnd = text.indexOf(DASHES, labelStart);
    if (labelEnd < 0) break;
    const label = text.slice(labelStart, labelEnd);
    if (!LABEL.test(label)) {
      at = labelStart;
      continue;
    }
    const endLine = `-----END ${label}-----`;
    const end = text.indexOf(endLine, labelEnd + DASHES.length);
    const stop = end < 0 ? text.length : end + endLine.length;
    blocks.push({ label, pem: text.slice(begin, stop) });
    at = stop;
  }
  return blocks;
}
