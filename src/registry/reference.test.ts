/** reference.ts: the grammar's faces that throw IMAGE_REFERENCE_INVALID (the grammar: ../lib/image-reference.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { checkReference, formatReference } from '../lib/image-reference.ts';
import { INVALID_SAMPLES, VALID_SAMPLES } from '../lib/image-reference.test-support.ts';
import { parseReference, pinReference } from './reference.ts';

const SHA = 'sha256:' + 'a'.repeat(64);

test('parseReference gives the frozen reference checkReference reads', () => {
  for (const written of VALID_SAMPLES) {
    const ref = parseReference(written);
    assert.deepEqual(checkReference(written), { ok: true, reference: ref }, written);
    assert.ok(Object.isFrozen(ref), written);
  }
});

test('parseReference throws IMAGE_REFERENCE_INVALID with the reason as message and the fix as hint', () => {
  for (const written of INVALID_SAMPLES) {
    const problem = checkReference(written);
    assert.ok(!problem.ok, written);
    assert.throws(
      () => parseReference(written),
      (error) => isBerthError(error) && error.code === 'IMAGE_REFERENCE_INVALID' && error.message.includes(problem.reason) && error.hint === problem.fix,
      written,
    );
  }
});

test('the error message quotes a long or odd reference safely and shortly', () => {
  try {
    parseReference(`${'a'.repeat(300)}\u0007`);
    assert.fail('refused');
  } catch (error) {
    assert.ok(isBerthError(error));
    assert.ok(error.message.length < 300, error.message);
    assert.ok(!error.message.includes('\u0007'), 'control characters are escaped');
  }
});

test('pinReference drops the tag and keeps the digest; refuses a bad digest', () => {
  const pinned = pinReference(parseReference('127.0.0.1:5055/x/y:tag'), SHA);
  assert.equal(formatReference(pinned), `127.0.0.1:5055/x/y@${SHA}`);
  assert.throws(() => pinReference(pinned, 'sha256:zz'), { code: 'IMAGE_REFERENCE_INVALID' });
});
