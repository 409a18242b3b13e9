import { describe, expect, it } from 'vitest';
import { invae } from './helpers';
import { scratchDirs } from '../../../test-support/index';

const scratch = scratchDirs('invae-demo');

describe('invae CLI', () => {
  it('--help lists the commands', () => {
    const r = invae(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: invae');
    expect(r.stdout).toMatch(/\bdemo\b/);
    expect(r.stdout).toMatch(/\binfo\b/);
  });

  it('--version prints the versions and the engine', () => {
    const r = invae(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^invae 0\.\d+\.\d+ \(@invae\/core 0\.\d+\.\d+\)$/m);
    expect(r.stdout).toMatch(/invae engine: wasm/);
  });

  it('info --engine --json honours INVAE_BACKEND=cpu', () => {
    const r = invae(['info', '--engine', '--json'], { INVAE_BACKEND: 'cpu' });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { engine: string; requested: string };
    expect(info).toMatchObject({ engine: 'cpu', requested: 'cpu' });
  });

  it('info --engine on auto reports wasm and why the native engines were skipped', () => {
    const r = invae(['info', '--engine']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('invae engine: wasm');
    expect(r.stdout).toContain('skipped tensorflow-gpu');
  });

  it('--backend tensorflow without tfjs-node fails clearly, non-zero, without a stack trace', () => {
    const r = invae(['--backend', 'tensorflow', 'info', '--engine']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invae: error:');
    expect(r.stderr).toContain('@tensorflow/tfjs-node');
    expect(r.stderr).toContain('hint: Install it');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown engine name is a usage error with a hint', () => {
    const r = invae(['demo'], { INVAE_BACKEND: 'gpu' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Unknown tensor engine 'gpu'");
  });

  it('an unknown command exits 2 with usage help', () => {
    const r = invae(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('demo runs end to end on each forced engine', () => {
    for (const engine of ['wasm', 'cpu']) {
      const out = scratch.make();
      const r = invae(['demo', '--cells', '120', '--genes', '12', '--epochs', '2', '--no-umap', '--out', out, '--overwrite', '--json'], { INVAE_BACKEND: engine });
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { engine: string; training: { epochs: number; finalLoss: number } };
      expect(s.engine).toBe(engine);
      expect(s.training.epochs).toBe(2);
      expect(Number.isFinite(s.training.finalLoss)).toBe(true);
    }
  });
});
