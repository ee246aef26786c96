/**
 * A preload (`node --import`) that appends every module URL a process resolves, with its pid and thread,
 * to the file named by BERTH_TEST_MODULE_LOG: how ./daemon-imports.test.ts sees what the daemon's own
 * thread loads. `module.registerHooks` sees both `import` and `require`, static and dynamic.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { threadId } from 'node:worker_threads';

const out = process.env.BERTH_TEST_MODULE_LOG;
if (out) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      appendFileSync(out, `${process.pid} ${threadId} ${resolved.url}\n`);
      return resolved;
    },
  });
}
