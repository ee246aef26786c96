import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ManualClock } from '../../lib/clock.ts';
import { silentLogger } from '../../lib/log.ts';
import type { LogLine } from '../driver.ts';
import { layoutFor, logFiles, type LogFiles } from './layout.ts';
import { createLogCollector, type LogCollectorOptions, type LogSource } from './log-collector.ts';
import { readStore } from '../log-store.ts';

/** A temporary instance log directory with a collector over it; `body` gets both. */
function withLogs(
  options: Omit<LogCollectorOptions, 'clock' | 'log'>,
  body: (t: { files: LogFiles; source: LogSource; clock: ManualClock; collector: ReturnType<typeof createLogCollector> }) => void,
) {
  const root = mkdtempSync(join(tmpdir(), 'berth-logs-'));
  try {
    const files = logFiles(layoutFor(root), { app: 'a', release: 'r1', process: 'web', id: 'ins_1' });
    mkdirSync(dirname(files.stdout), { recursive: true });
    const clock = new ManualClock(1_000);
    const source: LogSource = { id: 'ins_1', files, secrets: ['hunter2hunter2'] };
    body({ files, source, clock, collector: createLogCollector({ clock, log: silentLogger, ...options }) });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const stored = (files: LogFiles) => readStore(files.store, 'ins_1').map((l) => l.line);

test('collector: stamps, masks and stores complete lines; keeps a partial line; a new collector resumes from .pos', () =>
  withLogs({}, ({ files, source, clock, collector }) => {
    collector.collect(source); // no raw files yet: nothing happens
    assert.deepEqual(stored(files), []);

    appendFileSync(files.stdout, 'one\ntoken=hunter2hunter2\npart');
    appendFileSync(files.stderr, 'warn\n');
    const seen: LogLine[] = [];
    const off = collector.onLines('ins_1', (line) => seen.push(line));
    collector.collect(source);
    const expected: LogLine[] = [
      { ts: 1_000, stream: 'stdout', line: 'one', instance: 'ins_1' },
      { ts: 1_000, stream: 'stdout', line: 'token=***', instance: 'ins_1' },
      { ts: 1_000, stream: 'stderr', line: 'warn', instance: 'ins_1' },
    ];
    assert.deepEqual(readStore(files.store, 'ins_1'), expected);
    assert.deepEqual(seen, expected, 'listeners get the same lines');
    off();
    const raw = readFileSync(files.stdout, 'latin1');
    assert.ok(!raw.includes('hunter2'), 'stored masked, the clear text is scrubbed from the raw file');
    assert.ok(raw.endsWith('part'), 'the partial line, not yet collected, is left for the next pass');
    assert.equal(readFileSync(files.stderr, 'utf8'), 'warn\n', 'a pass without a secret leaves the raw file alone');

    void clock.advance(500);
    appendFileSync(files.stdout, 'ial\n');
    createLogCollector({ clock, log: silentLogger }).collect(source);
    assert.deepEqual(readStore(files.store, 'ins_1').slice(3), [{ ts: 1_500, stream: 'stdout', line: 'partial', instance: 'ins_1' }]);
    assert.equal(seen.length, 3, 'an unsubscribed listener hears nothing more');
    assert.ok(!readFileSync(files.store, 'utf8').includes('hunter2'), 'the secret never reaches the store');
  }));

test('collector: a final collection takes a last line without newline', () =>
  withLogs({}, ({ files, source, collector }) => {
    appendFileSync(files.stdout, 'no newline at the end');
    collector.collect(source);
    assert.deepEqual(stored(files), []);
    collector.collect(source, { final: true });
    assert.deepEqual(stored(files), ['no newline at the end']);
  }));

test('collector: truncates a fully read raw file past truncateBytes; appends land at the new end', () =>
  withLogs({ truncateBytes: 100 }, ({ files, source, collector }) => {
    appendFileSync(files.stdout, 'x'.repeat(50) + '\n');
    collector.collect(source);
    assert.equal(statSync(files.stdout).size, 51, 'below the threshold the raw file is left alone');
    appendFileSync(files.stdout, 'y'.repeat(60) + '\n');
    collector.collect(source);
    assert.equal(statSync(files.stdout).size, 0, 'fully read and over the threshold: truncated');
    appendFileSync(files.stdout, 'after\n');
    collector.collect(source);
    assert.deepEqual(stored(files), ['x'.repeat(50), 'y'.repeat(60), 'after']);
  }));

test('collector: rotates the store past rotateBytes, keeping exactly one old file', () =>
  withLogs({ rotateBytes: 200 }, ({ files, source, collector }) => {
    for (let i = 0; i < 30; i++) {
      appendFileSync(files.stdout, `line ${String(i).padStart(2, '0')} ${'z'.repeat(20)}\n`);
      collector.collect(source);
    }
    assert.ok(existsSync(`${files.store}.1`));
    assert.ok(!existsSync(`${files.store}.2`));
    assert.ok(statSync(files.store).size <= 200);
    const numbers = stored(files).map((l) => Number(l.slice(5, 7)));
    assert.ok(numbers.length > 0 && numbers.length < 30, 'the oldest lines were rotated away');
    assert.equal(numbers[numbers.length - 1], 29);
    assert.equal(numbers[numbers.length - 1] - numbers[0] + 1, numbers.length, 'oldest first across both files, no gaps');
  }));

test('collector: caps over-long lines', () =>
  withLogs({ maxLineLength: 16 }, ({ files, source, collector }) => {
    appendFileSync(files.stdout, 'a'.repeat(100) + '\nshort\n');
    collector.collect(source);
    assert.deepEqual(stored(files), ['a'.repeat(16) + ' [truncated]', 'short']);
  }));
