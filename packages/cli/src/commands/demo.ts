import type { Command } from 'commander';
import { initEngine, tf } from '@invae/core';
import type { GlobalOptions } from '../program';

interface DemoOptions {
  json?: boolean;
}

/**
 * `invae demo`: the end-to-end job on embedded (simulated) data. For now it initialises the tensor
 * engine and checks it with a timed matrix product; simulation, training and benchmarking are added
 * to this command as those parts of invae land.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run invae end to end on embedded simulated data')
    .option('--json', 'print a machine-readable summary')
    .action(async (opts: DemoOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const info = await initEngine({ backend: global.backend });
      const n = 512;
      const t0 = performance.now();
      const checksum = tf.tidy(() => {
        const a = tf.ones([n, n]);
        const b = tf.fill([n, n], 0.5);
        return tf.matMul(a, b).mean().dataSync()[0];
      });
      const seconds = (performance.now() - t0) / 1000;
      const summary = {
        engine: info.engine,
        check: { op: `matMul ${n}x${n}`, expected: n * 0.5, got: checksum, seconds },
        stages: ['engine'],
      };
      if (checksum !== n * 0.5) throw new Error(`engine self-check failed: expected ${n * 0.5}, got ${checksum}`);
      if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(`engine ${info.engine} ok: ${summary.check.op} in ${seconds.toFixed(3)} s\n`);
    });
}
