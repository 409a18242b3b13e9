#!/usr/bin/env node
// Micro-benchmark of the dense products of one training step (batch 256, genes 2000, hidden 128,
// latent 25+25 → 50 encoder outputs): GFLOP/s of (a) tfjs `tf.matMul` on the wasm backend (XNNPACK,
// single thread), (b) src/fused/gemm.wat on 1 thread and (c) on 2 threads (packing included, as the
// ops pack on every call), with the same shapes, transposes and work split as fused/affine.ts and
// fused/decoder-nb.ts. gemm.wat is compiled from its text here (no build:wasm needed). Prints JSON:
// per product the median and fastest time and the CPU time of each, GFLOP/s from the fastest and
// per CPU-second, a hash of gemm.wat's output bits (equal hashes across kernel versions and thread
// counts = bit-identical results), totals over the step, and the ceiling of f32x4 multiply-adds on
// one core (`ceiling`). The candidates are timed interleaved, call by call, so that on a shared
// machine other processes slow them alike; use many reps there (--reps 100).
// Usage: node packages/core/scripts/bench-gemm.mjs [--reps 30] [--threads 1,2] [--only name,…] [--no-tfjs]
//   [--wat a.wat,b.wat] (other versions of the kernels, timed interleaved, e.g. one from `git show main:…`)
//   [--plain] (the plain binaries, a multiply and an add, instead of the fused multiply-adds that run by
//   default where relaxed SIMD is accepted; on Node 20 this script switches V8's flag on as invae does)
import { parseArgs } from 'node:util';
import path from 'node:path';
import { WasmThreadPool } from '@invae/common';
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import wabtInit from 'wabt';
import { setFlagsFromString } from 'node:v8';
import { compileGemm } from './build-wasm.mjs';

const { values: opts } = parseArgs({
  options: {
    reps: { type: 'string', default: '30' },
    threads: { type: 'string', default: '1,2' },
    only: { type: 'string' },
    'no-tfjs': { type: 'boolean', default: false },
    wat: { type: 'string' },
    plain: { type: 'boolean', default: false },
  },
});
const reps = Number(opts.reps);
const threadCounts = opts.threads.split(',').map(Number);
// relaxed SIMD (f32x4.relaxed_madd) behind its flag on Node 20; accepted as is from Node 22
if (!opts.plain) setFlagsFromString('--experimental-wasm-relaxed-simd');

const B = 256, G = 2000, H = 128, Z = 50, L = 25;
const PANEL = 8;
const panels = (n) => Math.ceil(n / PANEL);

/**
 * The products of one step. C [m, n] = A · B: A(i, p) row-major [m, k] (transA false) or the
 * transpose of a row-major [k, m] (transA true); B(p, j) = S[p, j] of a row-major S [k, n]
 * (transB false) or S[j, p] of a row-major S [n, k] (transB true). split: 'panels' (affine.ts: each
 * thread packs and multiplies its output panels) or 'rows' (decoder-nb.ts: B packed by all threads
 * first, then the rows split in chunks of 32).
 */
const layer = (name, inp, out, split = 'panels') => [
  { name: `${name} fwd x·Wᵀ`, m: B, k: inp, n: out, transA: false, transB: true, split },
  { name: `${name} dx=dy·W`, m: B, k: out, n: inp, transA: false, transB: false, split },
  { name: `${name} dW=dyᵀ·x`, m: out, k: B, n: inp, transA: true, transB: false, split: 'panels' },
];
let products = [
  ...layer('enc genes→hidden', G, H),
  ...layer('enc hidden→hidden', H, H),
  ...layer('enc hidden→latent', H, Z),
  ...layer('dec latent→hidden', L, H),
  ...layer('dec hidden→hidden', H, H),
  ...layer('dec hidden→genes (decoder-nb)', H, G, 'rows'),
].map((p, id) => ({ ...p, id }));
if (opts.only) {
  const keep = opts.only.split(',');
  products = products.filter((p) => keep.some((s) => p.name.includes(s)));
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomArray(n, seed) {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * r() - 1;
  return out;
}
function hash(f32) {
  const u = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
/**
 * GFLOP/s from the fastest call (`gflops`) and per CPU-second (`gflopsCpu`: the work done per core
 * busy), with the median and fastest wall time and the mean CPU time (user + system, all threads;
 * the pool's idle threads wait without spinning) per call, in ms.
 */
function rate(mflop, wall, cpu) {
  const min = Math.min(...wall);
  const cpuMean = cpu.reduce((a, b) => a + b, 0) / cpu.length;
  return { ms: +median(wall).toFixed(4), minMs: +min.toFixed(4), cpuMs: +cpuMean.toFixed(4), gflops: +(mflop / min).toFixed(2), gflopsCpu: +(mflop / cpuMean).toFixed(2) };
}

/**
 * Times the candidates of one product interleaved call by call (3 warm-up calls each, then `reps`
 * rounds, each round calling every candidate once, in a rotating order), so that other processes
 * on a shared machine slow all of them alike and their ratios stay meaningful.
 */
function timeInterleaved(candidates, mflop) {
  for (const c of candidates) for (let i = 0; i < 3; i++) c.fn();
  const wall = candidates.map(() => []);
  const cpu = candidates.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < candidates.length; j++) {
      const q = (r + j) % candidates.length;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      candidates[q].fn();
      wall[q].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[q].push((c.user + c.system) / 1e3);
    }
  }
  return Object.fromEntries(candidates.map((c, q) => [c.key, rate(mflop, wall[q], cpu[q])]));
}

// seeded by the product's place in the full list, so that --only keeps each product's inputs
const inputs = products.map((p) => ({
  a: randomArray(p.m * p.k, 2 * p.id + 1),
  s: randomArray(p.k * p.n, 2 * p.id + 2),
}));

const results = products.map((p) => ({ name: p.name, m: p.m, n: p.n, k: p.k, transA: p.transA, transB: p.transB, mflop: (2 * p.m * p.n * p.k) / 1e6 }));

// (a) tfjs matMul on the wasm backend: `tfjs` multiplies operands already laid out for a plain
// matMul (XNNPACK's product, its re-packing of B included); `tfjsEngine` as the engine path does
// (nn/linear-product.ts: plain matMul with explicit tf.transpose, as tfjs-backend-wasm's matMul with
// transposeA/transposeB runs a slow non-XNNPACK loop), the transposes counted.
if (!opts['no-tfjs']) {
  await tf.setBackend('wasm');
  await tf.ready();
}
// (b, c) gemm.wat on pools of 1, 2, … threads
// (--wat a.wat,b.wat: each version timed interleaved with the others, keys gemm<threads>@<file name>)
const wats = opts.wat ? opts.wat.split(',').map((f) => path.resolve(f)) : [undefined];
const pools = [];
for (const wat of wats) {
  const bytes = await compileGemm(wat, { relaxed: !opts.plain });
  const suffix = wats.length > 1 ? `@${path.basename(wat)}` : '';
  for (const threads of threadCounts) pools.push(Object.assign(new WasmThreadPool({ name: 'bench gemm', bytes, kernels: ['gemm', 'packPanels'], threads }), { key: `gemm${threads}${suffix}` }));
}
try {
  products.forEach((p, q) => {
    const candidates = [];
    const held = [];
    if (!opts['no-tfjs']) {
      const a = p.transA ? tf.tensor2d(inputs[q].a, [p.k, p.m]) : tf.tensor2d(inputs[q].a, [p.m, p.k]);
      const s = p.transB ? tf.tensor2d(inputs[q].s, [p.n, p.k]) : tf.tensor2d(inputs[q].s, [p.k, p.n]);
      const aT = p.transA ? tf.transpose(a) : a;
      const sT = p.transB ? tf.transpose(s) : s;
      held.push(a, s, aT, sT);
      const run = (f) => () => {
        const c = f();
        c.dataSync();
        c.dispose();
      };
      candidates.push({ key: 'tfjs', fn: run(() => tf.matMul(aT, sT)) });
      candidates.push({ key: 'tfjsEngine', fn: run(() => tf.tidy(() => tf.matMul(p.transA ? tf.transpose(a) : a, p.transB ? tf.transpose(s) : s))) });
    }
    const outs = pools.map((pool) => {
      pool.reset();
      const a = pool.alloc(p.m * p.k);
      const s = pool.alloc(p.k * p.n);
      const packed = pool.alloc(panels(p.n) * PANEL * p.k);
      const c = pool.alloc(p.m * p.n);
      pool.write(a, inputs[q].a);
      pool.write(s, inputs[q].s);
      const [si, sp] = p.transA ? [1, p.m] : [p.k, 1];
      const [bp, bj] = p.transB ? [1, p.k] : [p.n, 1];
      const pack = { kernel: 'packPanels', args: [s, bp, bj, p.k, p.n, packed, 0, 0], splitAt: 6, units: panels(p.n) };
      const fn =
        p.split === 'rows'
          ? () => {
              pool.run([pack]);
              pool.run([{ kernel: 'gemm', args: [a, si, sp, packed, c, p.n, 0, p.n, p.k, 0, 0, 0, panels(p.n)], splitAt: 9, units: p.m, align: 32 }]);
            }
          : () => pool.run([pack, { kernel: 'gemm', args: [a, si, sp, packed, c, p.n, 0, p.n, p.k, 0, p.m, 0, 0], splitAt: 11, units: panels(p.n) }]);
      candidates.push({ key: pool.key, fn });
      return { pool, c };
    });
    Object.assign(results[q], timeInterleaved(candidates, results[q].mflop));
    for (const { pool, c } of outs) results[q][pool.key].hash = hash(pool.view(c, p.m * p.n));
    if (held.length) tf.dispose(held);
  });
} finally {
  for (const pool of pools) pool.close();
}

/**
 * The ceiling of the kernels' multiply-adds (fused with relaxed SIMD; with --plain f32x4.mul then
 * f32x4.add): GFLOP/s of a loop of 12 independent f32x4 multiply-add chains on registers only (no
 * loads, no pointer updates; acc += acc·2⁻³⁰ stays normal and unchanged), on one thread.
 */
async function ceiling() {
  const chains = 12;
  const acc = Array.from({ length: chains }, (_, i) => `$c${i}`);
  const text = `(module (func (export "run") (param $n i32) (result f32) (local $y v128) ${acc.map((c) => `(local ${c} v128)`).join(' ')}
    (local.set $y (v128.const f32x4 9.3132257e-10 9.3132257e-10 9.3132257e-10 9.3132257e-10))
    ${acc.map((c, i) => `(local.set ${c} (v128.const f32x4 1 2 3 ${i + 1}))`).join('\n    ')}
    (loop $l
      ${acc.map((c) => `(local.set ${c} ${opts.plain ? `(f32x4.add (local.get ${c}) (f32x4.mul (local.get ${c}) (local.get $y)))` : `(f32x4.relaxed_madd (local.get ${c}) (local.get $y) (local.get ${c}))`})`).join('\n      ')}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (f32x4.extract_lane 0 ${acc.reduce((sum, c) => `(f32x4.add ${sum} (local.get ${c}))`, '(v128.const f32x4 0 0 0 0)')})))`;
  const wabt = await wabtInit();
  const mod = wabt.parseWat('ceiling.wat', text, { simd: true, relaxed_simd: !opts.plain });
  let bytes;
  try {
    bytes = mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run;
  const n = 500000;
  const mflop = (n * chains * 8) / 1e6;
  const wall = [];
  const cpu = [];
  for (let r = 0; r < reps + 3; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run(n);
    if (r < 3) continue;
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  return rate(mflop, wall, cpu);
}

const totals = {};
for (const key of ['tfjs', 'tfjsEngine', ...pools.map((p) => p.key)]) {
  if (!results.every((r) => r[key])) continue;
  const ms = results.reduce((s, r) => s + r[key].ms, 0);
  const minMs = results.reduce((s, r) => s + r[key].minMs, 0);
  const cpuMs = results.reduce((s, r) => s + r[key].cpuMs, 0);
  const mflop = results.reduce((s, r) => s + r.mflop, 0);
  totals[key] = { ms: +ms.toFixed(3), minMs: +minMs.toFixed(3), cpuMs: +cpuMs.toFixed(3), gflops: +(mflop / minMs).toFixed(2), gflopsCpu: +(mflop / cpuMs).toFixed(2) };
}
const engine = opts['no-tfjs'] ? null : { backend: tf.getBackend(), threads: tfWasm.getThreadsCount(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') };
console.log(JSON.stringify({ reps, engine, ceiling: await ceiling(), products: results, totals }, null, 1));
