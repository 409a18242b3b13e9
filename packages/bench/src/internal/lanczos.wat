;; invae bench: the O(n·m) loops of the Lanczos eigen-solver (`linalg.ts`) in WebAssembly SIMD
;; (f64x2) on a memory the caller allocates (imported as env.memory). Compiled by
;; packages/bench/scripts/build-wasm.mjs into src/internal/lanczos-binary.ts (checked by
;; test/lanczos-wasm.test.ts).
;;
;; Every result is bit-identical to the plain JavaScript loops it replaces: the same products, added
;; in the same order (no fused multiply-add exists in WebAssembly SIMD, as in JavaScript).
;;   dots:     out[t] = Σ_i w[i]·V_t[i] with four partial sums over i mod 4 (as `dot4`), the tail
;;             (n mod 4 entries) added to the first, then ((s0 + s1) + s2) + s3.
;;   subtract: w[i] += (−dots[t])·V_t[i] for t = 0, 1, …, j − 1 in order (as `axpy4` per vector).
;;   ritz:     out[i·count + c] = Σ_t V_t[i]·S[t·count + c], t ascending from 0 (as the V·S loop).
;; Vector t of the basis starts at byte `basis + t·stride`; all offsets are byte offsets.
(module
  (import "env" "memory" (memory 1))

  ;; out[t] (f64) = V_t · w for t in [0, j).
  (func (export "dots") (param $w i32) (param $basis i32) (param $stride i32) (param $j i32) (param $n i32) (param $out i32)
    (local $t i32) (local $i i32) (local $n4 i32) (local $pa i32) (local $pb i32) (local $pw i32)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128) (local $x0 v128) (local $x1 v128)
    (local $sa f64) (local $sb f64)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    ;; Two vectors per sweep over w (t, t + 1).
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.gt_u (i32.add (local.get $t) (i32.const 2)) (local.get $j)))
        (local.set $pa (i32.add (local.get $basis) (i32.mul (local.get $t) (local.get $stride))))
        (local.set $pb (i32.add (local.get $pa) (local.get $stride)))
        (local.set $pw (local.get $w))
        (local.set $a0 (v128.const f64x2 0 0)) (local.set $a1 (v128.const f64x2 0 0))
        (local.set $b0 (v128.const f64x2 0 0)) (local.set $b1 (v128.const f64x2 0 0))
        (local.set $i (i32.const 0))
        (block $done
          (loop $body
            (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
            (local.set $x0 (v128.load (local.get $pw)))
            (local.set $x1 (v128.load offset=16 (local.get $pw)))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $x0) (v128.load (local.get $pa)))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $x1) (v128.load offset=16 (local.get $pa)))))
            (local.set $b0 (f64x2.add (local.get $b0) (f64x2.mul (local.get $x0) (v128.load (local.get $pb)))))
            (local.set $b1 (f64x2.add (local.get $b1) (f64x2.mul (local.get $x1) (v128.load offset=16 (local.get $pb)))))
            (local.set $pw (i32.add (local.get $pw) (i32.const 32)))
            (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
            (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $body)))
        (local.set $sa (f64x2.extract_lane 0 (local.get $a0)))
        (local.set $sb (f64x2.extract_lane 0 (local.get $b0)))
        (block $tdone
          (loop $tail
            (br_if $tdone (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $sa (f64.add (local.get $sa) (f64.mul (f64.load (local.get $pw)) (f64.load (local.get $pa)))))
            (local.set $sb (f64.add (local.get $sb) (f64.mul (f64.load (local.get $pw)) (f64.load (local.get $pb)))))
            (local.set $pw (i32.add (local.get $pw) (i32.const 8)))
            (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
            (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3)))
          (f64.add (f64.add (f64.add (local.get $sa) (f64x2.extract_lane 1 (local.get $a0))) (f64x2.extract_lane 0 (local.get $a1))) (f64x2.extract_lane 1 (local.get $a1))))
        (f64.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3)))
          (f64.add (f64.add (f64.add (local.get $sb) (f64x2.extract_lane 1 (local.get $b0))) (f64x2.extract_lane 0 (local.get $b1))) (f64x2.extract_lane 1 (local.get $b1))))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pairs)))
    ;; The last vector when j is odd.
    (if (i32.lt_u (local.get $t) (local.get $j))
      (then
        (local.set $pa (i32.add (local.get $basis) (i32.mul (local.get $t) (local.get $stride))))
        (local.set $pw (local.get $w))
        (local.set $a0 (v128.const f64x2 0 0)) (local.set $a1 (v128.const f64x2 0 0))
        (local.set $i (i32.const 0))
        (block $done1
          (loop $body1
            (br_if $done1 (i32.ge_u (local.get $i) (local.get $n4)))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (v128.load (local.get $pw)) (v128.load (local.get $pa)))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (v128.load offset=16 (local.get $pw)) (v128.load offset=16 (local.get $pa)))))
            (local.set $pw (i32.add (local.get $pw) (i32.const 32)))
            (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $body1)))
        (local.set $sa (f64x2.extract_lane 0 (local.get $a0)))
        (block $tdone1
          (loop $tail1
            (br_if $tdone1 (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $sa (f64.add (local.get $sa) (f64.mul (f64.load (local.get $pw)) (f64.load (local.get $pa)))))
            (local.set $pw (i32.add (local.get $pw) (i32.const 8)))
            (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail1)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3)))
          (f64.add (f64.add (f64.add (local.get $sa) (f64x2.extract_lane 1 (local.get $a0))) (f64x2.extract_lane 0 (local.get $a1))) (f64x2.extract_lane 1 (local.get $a1)))))))

  ;; w[i] += (−dots[t])·V_t[i] for t = 0 … j − 1 in order, in chunks of 256 entries of w (kept in
  ;; cache while every vector passes), two vectors per pass over a chunk.
  (func (export "subtract") (param $w i32) (param $basis i32) (param $stride i32) (param $j i32) (param $n i32) (param $dots i32)
    (local $c0 i32) (local $c1 i32) (local $t i32) (local $i i32) (local $pw i32) (local $pa i32) (local $pb i32)
    (local $va v128) (local $vb v128) (local $fa f64) (local $fb f64) (local $x v128) (local $c1v i32)
    (block $chunksDone
      (loop $chunks
        (br_if $chunksDone (i32.ge_u (local.get $c0) (local.get $n)))
        (local.set $c1 (i32.add (local.get $c0) (i32.const 256)))
        (if (i32.gt_u (local.get $c1) (local.get $n)) (then (local.set $c1 (local.get $n))))
        ;; Entries [c0, c1v) in pairs; c1v − c0 is even.
        (local.set $c1v (i32.add (local.get $c0) (i32.and (i32.sub (local.get $c1) (local.get $c0)) (i32.const -2))))
        (local.set $t (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_u (i32.add (local.get $t) (i32.const 2)) (local.get $j)))
            (local.set $fa (f64.neg (f64.load (i32.add (local.get $dots) (i32.shl (local.get $t) (i32.const 3))))))
            (local.set $fb (f64.neg (f64.load offset=8 (i32.add (local.get $dots) (i32.shl (local.get $t) (i32.const 3))))))
            (local.set $va (f64x2.splat (local.get $fa)))
            (local.set $vb (f64x2.splat (local.get $fb)))
            (local.set $pa (i32.add (i32.add (local.get $basis) (i32.mul (local.get $t) (local.get $stride))) (i32.shl (local.get $c0) (i32.const 3))))
            (local.set $pb (i32.add (local.get $pa) (local.get $stride)))
            (local.set $pw (i32.add (local.get $w) (i32.shl (local.get $c0) (i32.const 3))))
            (local.set $i (local.get $c0))
            (block $done
              (loop $body
                (br_if $done (i32.ge_u (local.get $i) (local.get $c1v)))
                (local.set $x (f64x2.add (v128.load (local.get $pw)) (f64x2.mul (local.get $va) (v128.load (local.get $pa)))))
                (v128.store (local.get $pw) (f64x2.add (local.get $x) (f64x2.mul (local.get $vb) (v128.load (local.get $pb)))))
                (local.set $pw (i32.add (local.get $pw) (i32.const 16)))
                (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
                (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $body)))
            (if (i32.lt_u (local.get $i) (local.get $c1))
              (then
                (f64.store (local.get $pw)
                  (f64.add (f64.add (f64.load (local.get $pw)) (f64.mul (local.get $fa) (f64.load (local.get $pa))))
                    (f64.mul (local.get $fb) (f64.load (local.get $pb)))))))
            (local.set $t (i32.add (local.get $t) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_u (local.get $t) (local.get $j))
          (then
            (local.set $fa (f64.neg (f64.load (i32.add (local.get $dots) (i32.shl (local.get $t) (i32.const 3))))))
            (local.set $va (f64x2.splat (local.get $fa)))
            (local.set $pa (i32.add (i32.add (local.get $basis) (i32.mul (local.get $t) (local.get $stride))) (i32.shl (local.get $c0) (i32.const 3))))
            (local.set $pw (i32.add (local.get $w) (i32.shl (local.get $c0) (i32.const 3))))
            (local.set $i (local.get $c0))
            (block $done1
              (loop $body1
                (br_if $done1 (i32.ge_u (local.get $i) (local.get $c1v)))
                (v128.store (local.get $pw) (f64x2.add (v128.load (local.get $pw)) (f64x2.mul (local.get $va) (v128.load (local.get $pa)))))
                (local.set $pw (i32.add (local.get $pw) (i32.const 16)))
                (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $body1)))
            (if (i32.lt_u (local.get $i) (local.get $c1))
              (then
                (f64.store (local.get $pw) (f64.add (f64.load (local.get $pw)) (f64.mul (local.get $fa) (f64.load (local.get $pa)))))))))
        (local.set $c0 (local.get $c1))
        (br $chunks))))

  ;; out[i·count + c] = Σ_{t < m} V_t[i]·S[t·count + c] (t ascending) for every cell i < n: per cell,
  ;; outputs in pairs (f64x2), the last one alone when count is odd.
  (func (export "ritz") (param $basis i32) (param $stride i32) (param $m i32) (param $n i32) (param $s i32) (param $count i32) (param $out i32)
    (local $i i32) (local $c i32) (local $t i32) (local $pv i32) (local $ps i32) (local $po i32) (local $cstride i32)
    (local $acc v128) (local $acc2 v128) (local $v v128) (local $sc f64) (local $count2 i32) (local $count4 i32)
    (local.set $cstride (i32.shl (local.get $count) (i32.const 3)))
    (local.set $count4 (i32.and (local.get $count) (i32.const -4)))
    (local.set $count2 (i32.and (local.get $count) (i32.const -2)))
    (local.set $po (local.get $out))
    (block $cellsDone
      (loop $cells
        (br_if $cellsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.const 0))
        ;; Four outputs at a time.
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.ge_u (local.get $c) (local.get $count4)))
            (local.set $acc (v128.const f64x2 0 0))
            (local.set $acc2 (v128.const f64x2 0 0))
            (local.set $pv (i32.add (local.get $basis) (i32.shl (local.get $i) (i32.const 3))))
            (local.set $ps (i32.add (local.get $s) (i32.shl (local.get $c) (i32.const 3))))
            (local.set $t (i32.const 0))
            (block $tDone
              (loop $ts
                (br_if $tDone (i32.ge_u (local.get $t) (local.get $m)))
                (local.set $v (v128.load64_splat (local.get $pv)))
                (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $v) (v128.load (local.get $ps)))))
                (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.mul (local.get $v) (v128.load offset=16 (local.get $ps)))))
                (local.set $pv (i32.add (local.get $pv) (local.get $stride)))
                (local.set $ps (i32.add (local.get $ps) (local.get $cstride)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $ts)))
            (v128.store (i32.add (local.get $po) (i32.shl (local.get $c) (i32.const 3))) (local.get $acc))
            (v128.store offset=16 (i32.add (local.get $po) (i32.shl (local.get $c) (i32.const 3))) (local.get $acc2))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $quads)))
        (if (i32.lt_u (local.get $c) (local.get $count2))
          (then
            (local.set $acc (v128.const f64x2 0 0))
            (local.set $pv (i32.add (local.get $basis) (i32.shl (local.get $i) (i32.const 3))))
            (local.set $ps (i32.add (local.get $s) (i32.shl (local.get $c) (i32.const 3))))
            (local.set $t (i32.const 0))
            (block $tDone2
              (loop $ts2
                (br_if $tDone2 (i32.ge_u (local.get $t) (local.get $m)))
                (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load64_splat (local.get $pv)) (v128.load (local.get $ps)))))
                (local.set $pv (i32.add (local.get $pv) (local.get $stride)))
                (local.set $ps (i32.add (local.get $ps) (local.get $cstride)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $ts2)))
            (v128.store (i32.add (local.get $po) (i32.shl (local.get $c) (i32.const 3))) (local.get $acc))
            (local.set $c (i32.add (local.get $c) (i32.const 2)))))
        (if (i32.lt_u (local.get $c) (local.get $count))
          (then
            (local.set $sc (f64.const 0))
            (local.set $pv (i32.add (local.get $basis) (i32.shl (local.get $i) (i32.const 3))))
            (local.set $ps (i32.add (local.get $s) (i32.shl (local.get $c) (i32.const 3))))
            (local.set $t (i32.const 0))
            (block $tDone3
              (loop $ts3
                (br_if $tDone3 (i32.ge_u (local.get $t) (local.get $m)))
                (local.set $sc (f64.add (local.get $sc) (f64.mul (f64.load (local.get $pv)) (f64.load (local.get $ps)))))
                (local.set $pv (i32.add (local.get $pv) (local.get $stride)))
                (local.set $ps (i32.add (local.get $ps) (local.get $cstride)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $ts3)))
            (f64.store (i32.add (local.get $po) (i32.shl (local.get $c) (i32.const 3))) (local.get $sc))))
        (local.set $po (i32.add (local.get $po) (local.get $cstride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $cells))))
)
