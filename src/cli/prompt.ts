/** Reading from the user: a line, a secret without echo, or all of a piped stdin. */
import { createInterface } from 'node:readline/promises';
import type { Input, Output } from './io.ts';

/** One line typed at a terminal; prompts go to stderr so stdout stays clean for output. */
export async function readLine(input: Input, output: Output, prompt: string): Promise<string> {
  const rl = createInterface({ input: input as NodeJS.ReadableStream, output: output as NodeJS.WritableStream, terminal: true });
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

/**
 * A secret typed at a terminal, echoing nothing (not even stars, so its length stays private). Enter
 * ends it, backspace edits it, Ctrl-C rejects with an AbortError.
 */
export function readSecret(input: Input, output: Output, prompt: string): Promise<string> {
  if (!input.setRawMode || !input.on || !input.off) return Promise.reject(new Error('stdin is not a terminal'));
  const setRawMode = input.setRawMode.bind(input);
  const on = input.on.bind(input);
  const off = input.off.bind(input);
  output.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      off('data', onData);
      setRawMode(false);
      input.pause?.();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done();
        if (char === '\u0003') return done(new DOMException('interrupted', 'AbortError'));
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else if (char >= ' ') value += char;
      }
    };
    setRawMode(true);
    on('data', onData);
    input.resume?.();
  });
}

/** Everything piped to stdin, as text. */
export async function readAll(input: Input): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A value piped in with `echo secret |` or `< file` ends with one newline that is not part of it. */
export function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
