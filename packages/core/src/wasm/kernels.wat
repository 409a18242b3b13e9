;; invae's WebAssembly SIMD kernels. They run on the tfjs wasm engine's own memory (imported as
;; env.memory), so tensors are read and written in place: every pointer is a byte offset into that
;; memory, every size a count of elements. Compiled by packages/core/scripts/build-wasm.mjs into
;; src/wasm/kernels-binary.ts (checked by test/wasm-kernels.test.ts). The fused threads' module
;; (src/fused/gemm.wat) includes these functions too, on a shared memory.
;;
;; Vectors are f32x4. Where a row's width is not a multiple of 4, its last group is the overlapping
;; group ending at the row's end, with the lanes already done masked out of every sum (widths of at
;; least 4 only; the caller checks).
;;
;; The products' multiply-adds are written `f32x4.relaxed_madd a b c` (a·b + c). The build makes two
;; binaries of each module: a relaxed one that keeps them (fused, one rounding, where the CPU has FMA)
;; and a plain one in which each becomes `f32x4.add c (f32x4.mul a b)` (two roundings, any runtime
;; with SIMD). src/wasm/relaxed-simd.ts chooses.
(module
  (import "env" "memory" (memory 1))

  ;; ln of each lane: positive normal and subnormal numbers to ~1.3 ulp: v = 2^e·m with m in
  ;; [√½, √2), ln m = 2·atanh(s) = 2s(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9) with s = (m−1)/(m+1), |s| < 0.172
  ;; (the next term is below 3e-9 relative), ln 2 added in two parts; ln 0 = -inf, ln(+inf) = +inf,
  ;; negative or NaN lanes give NaN.
  ;; @inline
  (func $vlog (param $v v128) (result v128)
    (local $small v128) (local $e v128) (local $m v128) (local $mask v128)
    (local $x v128) (local $s v128) (local $s2 v128) (local $p v128) (local $fe v128) (local $r v128)
    (local.set $small (f32x4.lt (local.get $v) (v128.const f32x4 1.17549435e-38 1.17549435e-38 1.17549435e-38 1.17549435e-38)))
    (local.set $x (v128.bitselect (f32x4.mul (local.get $v) (v128.const f32x4 16777216 16777216 16777216 16777216)) (local.get $v) (local.get $small)))
    (local.set $e (i32x4.sub (i32x4.shr_u (local.get $x) (i32.const 23)) (v128.const i32x4 127 127 127 127)))
    (local.set $e (i32x4.add (local.get $e) (v128.and (local.get $small) (v128.const i32x4 -24 -24 -24 -24))))
    ;; mantissa in [1, 2); above √2 halve it (one exponent more)
    (local.set $m (v128.or (v128.and (local.get $x) (v128.const i32x4 0x007fffff 0x007fffff 0x007fffff 0x007fffff)) (v128.const i32x4 0x3f800000 0x3f800000 0x3f800000 0x3f800000)))
    (local.set $mask (f32x4.gt (local.get $m) (v128.const f32x4 1.41421356 1.41421356 1.41421356 1.41421356)))
    (local.set $e (i32x4.sub (local.get $e) (local.get $mask)))
    (local.set $m (v128.bitselect (f32x4.mul (local.get $m) (v128.const f32x4 0.5 0.5 0.5 0.5)) (local.get $m) (local.get $mask)))
    ;; ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| < 0.1716
    (local.set $s (f32x4.div (f32x4.sub (local.get $m) (v128.const f32x4 1 1 1 1)) (f32x4.add (local.get $m) (v128.const f32x4 1 1 1 1))))
    (local.set $s2 (f32x4.mul (local.get $s) (local.get $s)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $s2) (v128.const f32x4 0.11111111 0.11111111 0.11111111 0.11111111)) (v128.const f32x4 0.14285714 0.14285714 0.14285714 0.14285714)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $s2) (local.get $p)) (v128.const f32x4 0.2 0.2 0.2 0.2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $s2) (local.get $p)) (v128.const f32x4 0.33333333 0.33333333 0.33333333 0.33333333)))
    (local.set $p (f32x4.mul (f32x4.mul (local.get $s2) (local.get $p)) (local.get $s)))
    ;; 2s + 2s·s²·P, plus e·ln 2 in two parts
    (local.set $fe (f32x4.convert_i32x4_s (local.get $e)))
    (local.set $r (f32x4.add (f32x4.mul (local.get $fe) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4)) (f32x4.add (local.get $p) (local.get $p))))
    (local.set $r (f32x4.add (local.get $r) (f32x4.add (local.get $s) (local.get $s))))
    (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $fe) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (v128.bitselect (v128.const f32x4 -inf -inf -inf -inf) (local.get $r) (f32x4.eq (local.get $v) (v128.const f32x4 0 0 0 0))))
    (local.set $r (v128.bitselect (v128.const f32x4 inf inf inf inf) (local.get $r) (f32x4.eq (local.get $v) (v128.const f32x4 inf inf inf inf))))
    (v128.bitselect (v128.const f32x4 nan nan nan nan) (local.get $r) (v128.not (f32x4.ge (local.get $v) (v128.const f32x4 0 0 0 0))))
  )

  ;; ln of each of n float32 values at $src into $dst (n ≥ 4; not in place: the last group may
  ;; overlap the one before).
  (func (export "logF32") (param $src i32) (param $dst i32) (param $n i32)
    (local $j i32) (local $last i32)
    (local.set $last (i32.sub (local.get $n) (i32.const 4)))
    (block $done
      (loop $next
        (if (i32.gt_s (local.get $j) (local.get $last)) (then (local.set $j (local.get $last))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
          (call $vlog (v128.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))))
        (br_if $done (i32.ge_s (local.get $j) (local.get $last)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $next)))
  )

  ;; Negative-binomial log-likelihood, the term that involves μ at every count, for b × g float32
  ;; counts and means $mu and per-gene θ ($theta) and ln(θ+ε) ($lte): per element
  ;;   θ(ln(θ+ε) − ln(θ+μ+ε)),
  ;; summed per row in double precision into $rows (f64 [b]); ln(θ+μ+ε) is written to $logT (f32 [b, g]).
  ;; The non-zero counts' x(ln(μ+ε) − ln(θ+μ+ε)) follow in nbCountTerms ($x is not read here).
  (func $nbForward (export "nbForward")
    (param $x i32) (param $mu i32) (param $theta i32) (param $lte i32)
    (param $logT i32) (param $rows i32) (param $b i32) (param $g i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $last i32) (local $off i32) (local $joff i32) (local $skip i32)
    (local $th v128) (local $m v128) (local $xv v128) (local $lt v128) (local $lm v128)
    (local $term v128) (local $lo v128) (local $hi v128) (local $veps v128)
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $last (i32.sub (local.get $g) (i32.const 4)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $b)))
        (local.set $lo (v128.const f64x2 0 0))
        (local.set $hi (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $col
            (local.set $skip (i32.const 0))
            (if (i32.gt_s (local.get $j) (local.get $last))
              (then (local.set $skip (i32.sub (local.get $j) (local.get $last))) (local.set $j (local.get $last))))
            (local.set $joff (i32.shl (local.get $j) (i32.const 2)))
            (local.set $off (i32.shl (i32.add (i32.mul (local.get $r) (local.get $g)) (local.get $j)) (i32.const 2)))
            (local.set $th (v128.load (i32.add (local.get $theta) (local.get $joff))))
            (local.set $m (v128.load (i32.add (local.get $mu) (local.get $off))))
            (local.set $lt (call $vlog (f32x4.add (f32x4.add (local.get $th) (local.get $m)) (local.get $veps))))
            (v128.store (i32.add (local.get $logT) (local.get $off)) (local.get $lt))
            (local.set $term (f32x4.mul (local.get $th) (f32x4.sub (v128.load (i32.add (local.get $lte) (local.get $joff))) (local.get $lt))))
            (local.set $term (v128.andnot (local.get $term) (i32x4.lt_s (v128.const i32x4 0 1 2 3) (i32x4.splat (local.get $skip)))))
            (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $term))))
            (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $term) (local.get $term)))))
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $last)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $col)))
        (local.set $lo (f64x2.add (local.get $lo) (local.get $hi)))
        (f64.store (i32.add (local.get $rows) (i32.shl (local.get $r) (i32.const 3)))
          (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )

  ;; Gradient of nbForward's terms given the upstream gradient $dy (f32 [b]) and $logT from the
  ;; forward pass: dμ = dy·([x ≠ 0]·x/(μ+ε) − (θ+x)/(θ+μ+ε)) into $dmu (f32 [b, g]), and per gene
  ;; Σ_rows dy·(c − ln(θ+μ+ε) − (θ+x)/(θ+μ+ε)) with c = ln(θ+ε) + θ/(θ+ε) ($c, f32 [g]) into
  ;; $acc (f64 [g], overwritten).
  (func $nbBackward (export "nbBackward")
    (param $x i32) (param $mu i32) (param $theta i32) (param $c i32) (param $logT i32) (param $dy i32)
    (param $dmu i32) (param $acc i32) (param $b i32) (param $g i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $last i32) (local $off i32) (local $joff i32) (local $aoff i32) (local $skip i32)
    (local $th v128) (local $m v128) (local $xv v128) (local $q v128) (local $d v128) (local $term v128) (local $veps v128)
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $last (i32.sub (local.get $g) (i32.const 4)))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $g) (i32.const 3)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $b)))
        (local.set $d (f32x4.splat (f32.load (i32.add (local.get $dy) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $col
            (local.set $skip (i32.const 0))
            (if (i32.gt_s (local.get $j) (local.get $last))
              (then (local.set $skip (i32.sub (local.get $j) (local.get $last))) (local.set $j (local.get $last))))
            (local.set $joff (i32.shl (local.get $j) (i32.const 2)))
            (local.set $off (i32.shl (i32.add (i32.mul (local.get $r) (local.get $g)) (local.get $j)) (i32.const 2)))
            (local.set $th (v128.load (i32.add (local.get $theta) (local.get $joff))))
            (local.set $m (v128.load (i32.add (local.get $mu) (local.get $off))))
            (local.set $xv (v128.load (i32.add (local.get $x) (local.get $off))))
            (local.set $q (f32x4.div (f32x4.add (local.get $th) (local.get $xv))
              (f32x4.add (f32x4.add (local.get $th) (local.get $m)) (local.get $veps))))
            (v128.store (i32.add (local.get $dmu) (local.get $off))
              (f32x4.mul (local.get $d) (f32x4.sub
                (v128.and
                  (f32x4.div (local.get $xv) (f32x4.add (local.get $m) (local.get $veps)))
                  (f32x4.ne (local.get $xv) (v128.const f32x4 0 0 0 0)))
                (local.get $q))))
            (local.set $term (f32x4.mul (local.get $d) (f32x4.sub
              (f32x4.sub (v128.load (i32.add (local.get $c) (local.get $joff))) (v128.load (i32.add (local.get $logT) (local.get $off))))
              (local.get $q))))
            (local.set $term (v128.andnot (local.get $term) (i32x4.lt_s (v128.const i32x4 0 1 2 3) (i32x4.splat (local.get $skip)))))
            (local.set $aoff (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
            (v128.store (local.get $aoff) (f64x2.add (v128.load (local.get $aoff)) (f64x2.promote_low_f32x4 (local.get $term))))
            (v128.store offset=16 (local.get $aoff) (f64x2.add (v128.load offset=16 (local.get $aoff))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $term) (local.get $term)))))
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $last)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $col)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )

  ;; Column indices of the non-zero values of one row of n float32 values at $src, written as i32 to
  ;; $idx; returns their number. Groups of four zeros are skipped with one vector test.
  (func $nonZeros (param $src i32) (param $n i32) (param $idx i32) (result i32)
    (local $j i32) (local $k i32) (local $bits i32) (local $p i32)
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
        ;; one bit per non-zero lane; each candidate index is written, the count advances past it only if its bit is set
        (local.set $bits (i32x4.bitmask (f32x4.ne (v128.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))) (v128.const f32x4 0 0 0 0))))
        (if (local.get $bits)
          (then
            (local.set $p (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))
            (i32.store (local.get $p) (local.get $j))
            (local.set $k (i32.add (local.get $k) (i32.and (local.get $bits) (i32.const 1))))
            (local.set $p (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))
            (i32.store (local.get $p) (i32.add (local.get $j) (i32.const 1)))
            (local.set $k (i32.add (local.get $k) (i32.and (i32.shr_u (local.get $bits) (i32.const 1)) (i32.const 1))))
            (local.set $p (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))
            (i32.store (local.get $p) (i32.add (local.get $j) (i32.const 2)))
            (local.set $k (i32.add (local.get $k) (i32.and (i32.shr_u (local.get $bits) (i32.const 2)) (i32.const 1))))
            (local.set $p (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))
            (i32.store (local.get $p) (i32.add (local.get $j) (i32.const 3)))
            (local.set $k (i32.add (local.get $k) (i32.shr_u (local.get $bits) (i32.const 3))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_s (local.get $j) (local.get $n)))
        (i32.store (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))) (local.get $j))
        (local.set $k (i32.add (local.get $k)
          (f32.ne (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))) (f32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
    (local.get $k)
  )

  ;; The non-zeros of a minibatch's counts ($x, f32 [rows, cols]) found once, for every kernel that
  ;; reads them (see $rowIndices): writes i32 row offsets [rows + 1] at $out, then each row's column
  ;; indices in order after them ($out holds rows + 1 + rows·cols i32); returns their number.
  (func (export "buildCsr") (param $x i32) (param $rows i32) (param $cols i32) (param $out i32) (result i32)
    (local $r i32) (local $k i32) (local $idx i32)
    (local.set $idx (i32.add (local.get $out) (i32.shl (i32.add (local.get $rows) (i32.const 1)) (i32.const 2))))
    (i32.store (local.get $out) (i32.const 0))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $k (i32.add (local.get $k) (call $nonZeros
          (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2)))
          (local.get $cols)
          (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $k))
        (br $row)))
    (local.get $k)
  )

  ;; A minibatch read from the stored entries of its rows (a sparse source's): row r's entries are
  ;; $starts[r] ≤ t < $starts[r + 1] (i32 [rows + 1]) of $vals (f32) and $ecols (i32 column indices).
  ;; Writes the dense counts $x (f32 [rows, cols], each row zeroed, then its entries added) and their
  ;; non-zeros at $out as buildCsr does (i32 row offsets [rows + 1], then column indices; $out holds
  ;; rows + 2 + $starts[rows] i32: a scan may write one index past the last). A row whose columns increase and whose values are all non-zero
  ;; lists its entries' columns as they come; any other row (repeated or unordered columns, stored
  ;; zeros) is scanned after it is written. Returns the number of non-zeros, or −1 (nothing listed)
  ;; for a column index outside [0, cols), which is then not written.
  (func (export "csrRowsDense") (param $vals i32) (param $ecols i32) (param $starts i32) (param $rows i32) (param $cols i32) (param $x i32) (param $out i32) (result i32)
    (local $r i32) (local $k i32) (local $k0 i32) (local $idx i32) (local $xr i32) (local $t i32) (local $end i32)
    (local $c i32) (local $prev i32) (local $ok i32) (local $v f32) (local $at i32)
    (local.set $idx (i32.add (local.get $out) (i32.shl (i32.add (local.get $rows) (i32.const 1)) (i32.const 2))))
    (i32.store (local.get $out) (i32.const 0))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (memory.fill (local.get $xr) (i32.const 0) (i32.shl (local.get $cols) (i32.const 2)))
        (local.set $t (i32.load (i32.add (local.get $starts) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end (i32.load (i32.add (local.get $starts) (i32.shl (i32.add (local.get $r) (i32.const 1)) (i32.const 2)))))
        (local.set $k0 (local.get $k))
        (local.set $prev (i32.const -1))
        (local.set $ok (i32.const 1))
        (block $entriesDone
          (loop $entry
            (br_if $entriesDone (i32.ge_s (local.get $t) (local.get $end)))
            (local.set $c (i32.load (i32.add (local.get $ecols) (i32.shl (local.get $t) (i32.const 2)))))
            (if (i32.ge_u (local.get $c) (local.get $cols)) (then (return (i32.const -1))))
            (local.set $v (f32.load (i32.add (local.get $vals) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $at (i32.add (local.get $xr) (i32.shl (local.get $c) (i32.const 2))))
            (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (local.get $v)))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))) (local.get $c))
            (local.set $ok (i32.and (local.get $ok) (i32.and (i32.gt_s (local.get $c) (local.get $prev)) (f32.ne (local.get $v) (f32.const 0)))))
            (local.set $prev (local.get $c))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $entry)))
        (if (i32.eqz (local.get $ok))
          (then
            (local.set $k (i32.add (local.get $k0) (call $nonZeros (local.get $xr) (local.get $cols)
              (i32.add (local.get $idx) (i32.shl (local.get $k0) (i32.const 2))))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $k))
        (br $row)))
    (local.get $k)
  )

  ;; Column indices of the non-zeros of row $r (at $xr, $in wide) into $idx, returning their number.
  ;; Without a CSR ($csr = 0) the row is scanned. Otherwise $csr holds the minibatch's non-zeros,
  ;; built once on the host: i32 row offsets [$rows + 1], then i32 column indices; they cover the
  ;; row's first $csrCols columns, and only the columns after those (e.g. covariates appended to the
  ;; counts) are scanned.
  (func $rowIndices (param $xr i32) (param $r i32) (param $in i32) (param $idx i32) (param $csr i32) (param $rows i32) (param $csrCols i32) (result i32)
    (local $start i32) (local $n i32)
    (if (i32.eqz (local.get $csr)) (then (return (call $nonZeros (local.get $xr) (local.get $in) (local.get $idx)))))
    (local.set $start (i32.load (i32.add (local.get $csr) (i32.shl (local.get $r) (i32.const 2)))))
    (local.set $n (i32.sub (i32.load (i32.add (local.get $csr) (i32.shl (i32.add (local.get $r) (i32.const 1)) (i32.const 2)))) (local.get $start)))
    (memory.copy (local.get $idx)
      (i32.add (local.get $csr) (i32.shl (i32.add (i32.add (local.get $rows) (i32.const 1)) (local.get $start)) (i32.const 2)))
      (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.lt_s (local.get $csrCols) (local.get $in))
      (then (local.set $n (call $appendNonZeros (local.get $xr) (local.get $csrCols) (local.get $in) (local.get $idx) (local.get $n)))))
    (local.get $n)
  )

  ;; Appends the column indices of the non-zeros among the row's columns $c0 ≤ c < $c1 (the row at
  ;; $xr) to the $n indices at $idx, in order; returns the new count.
  (func $appendNonZeros (param $xr i32) (param $c0 i32) (param $c1 i32) (param $idx i32) (param $n i32) (result i32)
    (local $m i32) (local $t i32) (local $p i32)
    (local.set $p (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $m (call $nonZeros (i32.add (local.get $xr) (i32.shl (local.get $c0) (i32.const 2))) (i32.sub (local.get $c1) (local.get $c0)) (local.get $p)))
    (block $shiftDone
      (loop $shift
        (br_if $shiftDone (i32.ge_s (local.get $t) (local.get $m)))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (local.get $c0)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $shift)))
    (i32.add (local.get $n) (local.get $m))
  )

  ;; Number of non-zero values among n float32 values at $src.
  (func (export "countNonZero") (param $src i32) (param $n i32) (result i32)
    (local $j i32) (local $acc v128) (local $k i32)
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
        ;; ne gives −1 per non-zero lane
        (local.set $acc (i32x4.sub (local.get $acc)
          (f32x4.ne (v128.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))) (v128.const f32x4 0 0 0 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
    (local.set $k (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $k (i32.add (local.get $k)
          (f32.ne (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))) (f32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
    (local.get $k)
  )

  ;; out = x · Wᵀ + bias for x (f32 [rows, in], mostly zeros) and Wᵀ given as $wt (f32 [in, n]):
  ;; each output row is the bias plus Σ over the row's non-zeros x_c · Wᵀ[c, :], accumulated in
  ;; registers over blocks of 32 outputs. $idx is scratch for one row's column indices (i32 [in]);
  ;; $csr/$csrCols: the non-zeros built on the host, or 0 (see $rowIndices).
  (func (export "sparseAffine")
    (param $x i32) (param $rows i32) (param $in i32) (param $wt i32) (param $bias i32) (param $out i32) (param $n i32) (param $idx i32) (param $csr i32) (param $csrCols i32)
    (call $sparseAffineRows (local.get $x) (local.get $rows) (local.get $in) (local.get $wt) (local.get $bias) (local.get $out) (local.get $n) (local.get $idx)
      (local.get $csr) (local.get $csrCols) (i32.const 0) (local.get $rows))
  )

  ;; sparseAffine for the rows $r0 ≤ r < $r1 of the $rows rows only (each row's sums as there).
  (func $sparseAffineRows (export "sparseAffineRows")
    (param $x i32) (param $rows i32) (param $in i32) (param $wt i32) (param $bias i32) (param $out i32) (param $n i32) (param $idx i32) (param $csr i32) (param $csrCols i32)
    (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $nnz i32) (local $xr i32) (local $o i32) (local $c0 i32) (local $k i32) (local $kEnd i32) (local $col i32)
    (local $s v128) (local $w i32) (local $sf f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $r (local.get $r0))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $r1)))
        (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $in)) (i32.const 2))))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))
        (local.set $nnz (call $rowIndices (local.get $xr) (local.get $r) (local.get $in) (local.get $idx) (local.get $csr) (local.get $rows) (local.get $csrCols)))
        (local.set $kEnd (i32.add (local.get $idx) (i32.shl (local.get $nnz) (i32.const 2))))
        ;; blocks of 32 outputs (8 vector accumulators)
        (local.set $c0 (i32.const 0))
        (block $b32Done
          (loop $b32
            (br_if $b32Done (i32.gt_s (i32.add (local.get $c0) (i32.const 32)) (local.get $n)))
            (local.set $w (i32.add (local.get $bias) (i32.shl (local.get $c0) (i32.const 2))))
            (local.set $a0 (v128.load offset=0 (local.get $w)))
            (local.set $a1 (v128.load offset=16 (local.get $w)))
            (local.set $a2 (v128.load offset=32 (local.get $w)))
            (local.set $a3 (v128.load offset=48 (local.get $w)))
            (local.set $a4 (v128.load offset=64 (local.get $w)))
            (local.set $a5 (v128.load offset=80 (local.get $w)))
            (local.set $a6 (v128.load offset=96 (local.get $w)))
            (local.set $a7 (v128.load offset=112 (local.get $w)))
            (local.set $k (local.get $idx))
            (block $nzDone
              (loop $nz
                (br_if $nzDone (i32.eq (local.get $k) (local.get $kEnd)))
                (local.set $col (i32.load (local.get $k)))
                (local.set $s (v128.load32_splat (i32.add (local.get $xr) (i32.shl (local.get $col) (i32.const 2)))))
                (local.set $w (i32.add (local.get $wt) (i32.shl (i32.add (i32.mul (local.get $col) (local.get $n)) (local.get $c0)) (i32.const 2))))
                (local.set $a0 (f32x4.relaxed_madd (local.get $s) (v128.load offset=0 (local.get $w)) (local.get $a0)))
                (local.set $a1 (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $w)) (local.get $a1)))
                (local.set $a2 (f32x4.relaxed_madd (local.get $s) (v128.load offset=32 (local.get $w)) (local.get $a2)))
                (local.set $a3 (f32x4.relaxed_madd (local.get $s) (v128.load offset=48 (local.get $w)) (local.get $a3)))
                (local.set $a4 (f32x4.relaxed_madd (local.get $s) (v128.load offset=64 (local.get $w)) (local.get $a4)))
                (local.set $a5 (f32x4.relaxed_madd (local.get $s) (v128.load offset=80 (local.get $w)) (local.get $a5)))
                (local.set $a6 (f32x4.relaxed_madd (local.get $s) (v128.load offset=96 (local.get $w)) (local.get $a6)))
                (local.set $a7 (f32x4.relaxed_madd (local.get $s) (v128.load offset=112 (local.get $w)) (local.get $a7)))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $nz)))
            (local.set $w (i32.add (local.get $o) (i32.shl (local.get $c0) (i32.const 2))))
            (v128.store offset=0 (local.get $w) (local.get $a0))
            (v128.store offset=16 (local.get $w) (local.get $a1))
            (v128.store offset=32 (local.get $w) (local.get $a2))
            (v128.store offset=48 (local.get $w) (local.get $a3))
            (v128.store offset=64 (local.get $w) (local.get $a4))
            (v128.store offset=80 (local.get $w) (local.get $a5))
            (v128.store offset=96 (local.get $w) (local.get $a6))
            (v128.store offset=112 (local.get $w) (local.get $a7))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 32)))
            (br $b32)))
        ;; remaining outputs one at a time
        (block $b1Done
          (loop $b1
            (br_if $b1Done (i32.ge_s (local.get $c0) (local.get $n)))
            (local.set $sf (f32.load (i32.add (local.get $bias) (i32.shl (local.get $c0) (i32.const 2)))))
            (local.set $k (i32.const 0))
            (block $nzDone1
              (loop $nz1
                (br_if $nzDone1 (i32.ge_s (local.get $k) (local.get $nnz)))
                (local.set $col (i32.load (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2)))))
                (local.set $sf (f32.add (local.get $sf) (f32.mul
                  (f32.load (i32.add (local.get $xr) (i32.shl (local.get $col) (i32.const 2))))
                  (f32.load (i32.add (local.get $wt) (i32.shl (i32.add (i32.mul (local.get $col) (local.get $n)) (local.get $c0)) (i32.const 2)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $nz1)))
            (f32.store (i32.add (local.get $o) (i32.shl (local.get $c0) (i32.const 2))) (local.get $sf))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 1)))
            (br $b1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )

  ;; Gradients of sparseAffine's weight and bias from dy (f32 [rows, n]) and the same x (f32 [rows, in]):
  ;; dWᵀ[c, :] = Σ_rows x[r, c]·dy[r, :] into $dwt (f32 [in, n], overwritten) over the non-zeros of x,
  ;; and db = Σ_rows dy[r, :] into $db (f32 [n]). $idx: scratch, i32 [in]; $csr/$csrCols as in sparseAffine.
  (func (export "sparseAffineGrad")
    (param $x i32) (param $rows i32) (param $in i32) (param $dy i32) (param $n i32) (param $dwt i32) (param $db i32) (param $idx i32) (param $csr i32) (param $csrCols i32)
    (local $r i32) (local $nnz i32) (local $xr i32)
    (memory.fill (local.get $dwt) (i32.const 0) (i32.shl (i32.mul (local.get $in) (local.get $n)) (i32.const 2)))
    (memory.fill (local.get $db) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $in)) (i32.const 2))))
        (local.set $nnz (call $rowIndices (local.get $xr) (local.get $r) (local.get $in) (local.get $idx) (local.get $csr) (local.get $rows) (local.get $csrCols)))
        (call $sparseGradRow (local.get $xr) (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2)))
          (local.get $idx) (local.get $nnz) (local.get $n) (local.get $dwt) (local.get $db))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )

  ;; One row's part of sparseAffineGrad: dWᵀ[c, :] += x_c·d for the $nnz columns c listed at $idx
  ;; (x_c at $xr + 4c; d: the row's dy, n values), and db += d when $db ≠ 0.
  (func $sparseGradRow (param $xr i32) (param $d i32) (param $idx i32) (param $nnz i32) (param $n i32) (param $dwt i32) (param $db i32)
    (local $c0 i32) (local $k i32) (local $kEnd i32) (local $col i32) (local $s v128) (local $w i32) (local $sf f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    ;; blocks of 32 outputs: dy held in 8 vectors
    (local.set $kEnd (i32.add (local.get $idx) (i32.shl (local.get $nnz) (i32.const 2))))
    (local.set $c0 (i32.const 0))
    (block $b32Done
      (loop $b32
        (br_if $b32Done (i32.gt_s (i32.add (local.get $c0) (i32.const 32)) (local.get $n)))
        (local.set $w (i32.add (local.get $d) (i32.shl (local.get $c0) (i32.const 2))))
        (local.set $a0 (v128.load offset=0 (local.get $w)))
        (local.set $a1 (v128.load offset=16 (local.get $w)))
        (local.set $a2 (v128.load offset=32 (local.get $w)))
        (local.set $a3 (v128.load offset=48 (local.get $w)))
        (local.set $a4 (v128.load offset=64 (local.get $w)))
        (local.set $a5 (v128.load offset=80 (local.get $w)))
        (local.set $a6 (v128.load offset=96 (local.get $w)))
        (local.set $a7 (v128.load offset=112 (local.get $w)))
        (if (local.get $db)
          (then
            (local.set $w (i32.add (local.get $db) (i32.shl (local.get $c0) (i32.const 2))))
            (v128.store offset=0 (local.get $w) (f32x4.add (v128.load offset=0 (local.get $w)) (local.get $a0)))
            (v128.store offset=16 (local.get $w) (f32x4.add (v128.load offset=16 (local.get $w)) (local.get $a1)))
            (v128.store offset=32 (local.get $w) (f32x4.add (v128.load offset=32 (local.get $w)) (local.get $a2)))
            (v128.store offset=48 (local.get $w) (f32x4.add (v128.load offset=48 (local.get $w)) (local.get $a3)))
            (v128.store offset=64 (local.get $w) (f32x4.add (v128.load offset=64 (local.get $w)) (local.get $a4)))
            (v128.store offset=80 (local.get $w) (f32x4.add (v128.load offset=80 (local.get $w)) (local.get $a5)))
            (v128.store offset=96 (local.get $w) (f32x4.add (v128.load offset=96 (local.get $w)) (local.get $a6)))
            (v128.store offset=112 (local.get $w) (f32x4.add (v128.load offset=112 (local.get $w)) (local.get $a7)))))
        (local.set $k (local.get $idx))
        (block $nzDone
          (loop $nz
            (br_if $nzDone (i32.eq (local.get $k) (local.get $kEnd)))
            (local.set $col (i32.load (local.get $k)))
            (local.set $s (v128.load32_splat (i32.add (local.get $xr) (i32.shl (local.get $col) (i32.const 2)))))
            (local.set $w (i32.add (local.get $dwt) (i32.shl (i32.add (i32.mul (local.get $col) (local.get $n)) (local.get $c0)) (i32.const 2))))
            (v128.store offset=0 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a0) (v128.load offset=0 (local.get $w))))
            (v128.store offset=16 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a1) (v128.load offset=16 (local.get $w))))
            (v128.store offset=32 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a2) (v128.load offset=32 (local.get $w))))
            (v128.store offset=48 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a3) (v128.load offset=48 (local.get $w))))
            (v128.store offset=64 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a4) (v128.load offset=64 (local.get $w))))
            (v128.store offset=80 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a5) (v128.load offset=80 (local.get $w))))
            (v128.store offset=96 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a6) (v128.load offset=96 (local.get $w))))
            (v128.store offset=112 (local.get $w) (f32x4.relaxed_madd (local.get $s) (local.get $a7) (v128.load offset=112 (local.get $w))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $nz)))
        (local.set $c0 (i32.add (local.get $c0) (i32.const 32)))
        (br $b32)))
    (block $b1Done
      (loop $b1
        (br_if $b1Done (i32.ge_s (local.get $c0) (local.get $n)))
        (local.set $sf (f32.load (i32.add (local.get $d) (i32.shl (local.get $c0) (i32.const 2)))))
        (if (local.get $db)
          (then
            (local.set $w (i32.add (local.get $db) (i32.shl (local.get $c0) (i32.const 2))))
            (f32.store (local.get $w) (f32.add (f32.load (local.get $w)) (local.get $sf)))))
        (local.set $k (i32.const 0))
        (block $nzDone1
          (loop $nz1
            (br_if $nzDone1 (i32.ge_s (local.get $k) (local.get $nnz)))
            (local.set $col (i32.load (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2)))))
            (local.set $w (i32.add (local.get $dwt) (i32.shl (i32.add (i32.mul (local.get $col) (local.get $n)) (local.get $c0)) (i32.const 2))))
            (f32.store (local.get $w) (f32.add (f32.load (local.get $w)) (f32.mul (local.get $sf)
              (f32.load (i32.add (local.get $xr) (i32.shl (local.get $col) (i32.const 2)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $nz1)))
        (local.set $c0 (i32.add (local.get $c0) (i32.const 1)))
        (br $b1)))
  )

  ;; dst (f32 [cols, ldd], columns 0 … rows − 1) = transpose of src (f32 [rows, cols]): 4 × 4 blocks by vector shuffles, in
  ;; strips of 64 columns (the written rows stay in cache); the last rows % 4 and cols % 4 one by one.
  (func $transposeLd (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32)
    (local $jt i32) (local $jtEnd i32) (local $i0 i32) (local $j0 i32) (local $rows4 i32) (local $cols4 i32)
    (local $p i32) (local $q i32) (local $ld i32) (local $lo i32) (local $i i32) (local $j i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $ld (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $lo (i32.shl (local.get $ldd) (i32.const 2)))
    (block $tDone
      (loop $tLoop
        (br_if $tDone (i32.ge_s (local.get $jt) (local.get $cols4)))
        (local.set $jtEnd (i32.add (local.get $jt) (i32.const 64)))
        (if (i32.gt_s (local.get $jtEnd) (local.get $cols4)) (then (local.set $jtEnd (local.get $cols4))))
        (local.set $i0 (i32.const 0))
        (block $iDone
          (loop $iLoop
            (br_if $iDone (i32.ge_s (local.get $i0) (local.get $rows4)))
            (local.set $j0 (local.get $jt))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_s (local.get $j0) (local.get $jtEnd)))
                (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $cols)) (local.get $j0)) (i32.const 2))))
                (local.set $r0 (v128.load (local.get $p)))
                (local.set $r1 (v128.load (i32.add (local.get $p) (local.get $ld))))
                (local.set $r2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $ld) (i32.const 1)))))
                (local.set $r3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $ld) (i32.const 3)))))
                ;; (a0 b0 a1 b1) (a2 b2 a3 b3) (c0 d0 c1 d1) (c2 d2 c3 d3)
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                (local.set $q (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j0) (local.get $ldd)) (local.get $i0)) (i32.const 2))))
                (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $q) (local.get $lo)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $q) (i32.shl (local.get $lo) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (v128.store (i32.add (local.get $q) (i32.mul (local.get $lo) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $j0 (i32.add (local.get $j0) (i32.const 4)))
                (br $jLoop)))
            (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
            (br $iLoop)))
        (local.set $jt (local.get $jtEnd))
        (br $tLoop)))
    ;; the last rows % 4 rows (all columns), then the last cols % 4 columns (the other rows)
    (local.set $i (local.get $rows4))
    (block $rDone
      (loop $rLoop
        (br_if $rDone (i32.ge_s (local.get $i) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $cDone
          (loop $cLoop
            (br_if $cDone (i32.ge_s (local.get $j) (local.get $cols)))
            (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ldd)) (local.get $i)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rLoop)))
    (local.set $i (i32.const 0))
    (block $r2Done
      (loop $r2Loop
        (br_if $r2Done (i32.ge_s (local.get $i) (local.get $rows4)))
        (local.set $j (local.get $cols4))
        (block $c2Done
          (loop $c2Loop
            (br_if $c2Done (i32.ge_s (local.get $j) (local.get $cols)))
            (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ldd)) (local.get $i)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $c2Loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $r2Loop)))
  )


    ;; dst (f32 [cols, rows]) = transpose of src (f32 [rows, cols]).
  (func (export "transpose") (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32)
    (call $transposeLd (local.get $src) (local.get $rows) (local.get $cols) (local.get $dst) (local.get $rows))
  )

  ;; The rows $r0 ≤ r < $r1 of src (f32 [rows, cols]) into columns $r0 … $r1 − 1 of dst (f32 [cols, rows]):
  ;; transpose's work split by rows, each part's values written by one call.
  (func (export "transposeRows") (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $r0 i32) (param $r1 i32)
    (if (i32.ge_s (local.get $r0) (local.get $r1)) (then (return)))
    (call $transposeLd (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r0) (local.get $cols)) (i32.const 2))) (i32.sub (local.get $r1) (local.get $r0))
      (local.get $cols) (i32.add (local.get $dst) (i32.shl (local.get $r0) (i32.const 2))) (local.get $rows))
  )

;; One Adam step (torch.optim.Adam, coupled weight decay) on n float32 values, in float32:
  ;;   g' = g + wd·p;  m' = b1·m + (1−b1)·g';  v' = b2·v + (1−b2)·g'²;  p' = p − step·m' / (√v' / bc2 + eps)
  ;; reading p, g, m, v and writing p', m', v' (outputs may not alias the inputs).
  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $po i32) (param $mo i32) (param $vo i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $wd f32) (param $eps f32) (param $bc2 f32) (param $step f32)
    (local $j i32) (local $off i32)
    (local $vp v128) (local $vg v128) (local $vm v128) (local $vv v128)
    (local $sb1 v128) (local $sb2 v128) (local $s1b1 v128) (local $s1b2 v128) (local $swd v128) (local $seps v128) (local $sbc2 v128) (local $sstep v128)
    (local $fp f32) (local $fg f32) (local $fm f32) (local $fv f32)
    (local.set $sb1 (f32x4.splat (local.get $b1)))
    (local.set $sb2 (f32x4.splat (local.get $b2)))
    (local.set $s1b1 (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $s1b2 (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $swd (f32x4.splat (local.get $wd)))
    (local.set $seps (f32x4.splat (local.get $eps)))
    (local.set $sbc2 (f32x4.splat (local.get $bc2)))
    (local.set $sstep (f32x4.splat (local.get $step)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
        (local.set $off (i32.shl (local.get $j) (i32.const 2)))
        (local.set $vp (v128.load (i32.add (local.get $p) (local.get $off))))
        (local.set $vg (f32x4.add (v128.load (i32.add (local.get $g) (local.get $off))) (f32x4.mul (local.get $swd) (local.get $vp))))
        (local.set $vm (f32x4.add (f32x4.mul (local.get $sb1) (v128.load (i32.add (local.get $m) (local.get $off))))
          (f32x4.mul (local.get $s1b1) (local.get $vg))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $sb2) (v128.load (i32.add (local.get $v) (local.get $off))))
          (f32x4.mul (local.get $s1b2) (f32x4.mul (local.get $vg) (local.get $vg)))))
        (v128.store (i32.add (local.get $mo) (local.get $off)) (local.get $vm))
        (v128.store (i32.add (local.get $vo) (local.get $off)) (local.get $vv))
        (v128.store (i32.add (local.get $po) (local.get $off))
          (f32x4.sub (local.get $vp) (f32x4.div (f32x4.mul (local.get $sstep) (local.get $vm))
            (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (local.get $sbc2)) (local.get $seps)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $off (i32.shl (local.get $j) (i32.const 2)))
        (local.set $fp (f32.load (i32.add (local.get $p) (local.get $off))))
        (local.set $fg (f32.add (f32.load (i32.add (local.get $g) (local.get $off))) (f32.mul (local.get $wd) (local.get $fp))))
        (local.set $fm (f32.add (f32.mul (local.get $b1) (f32.load (i32.add (local.get $m) (local.get $off))))
          (f32.mul (f32.sub (f32.const 1) (local.get $b1)) (local.get $fg))))
        (local.set $fv (f32.add (f32.mul (local.get $b2) (f32.load (i32.add (local.get $v) (local.get $off))))
          (f32.mul (f32.sub (f32.const 1) (local.get $b2)) (f32.mul (local.get $fg) (local.get $fg)))))
        (f32.store (i32.add (local.get $mo) (local.get $off)) (local.get $fm))
        (f32.store (i32.add (local.get $vo) (local.get $off)) (local.get $fv))
        (f32.store (i32.add (local.get $po) (local.get $off))
          (f32.sub (local.get $fp) (f32.div (f32.mul (local.get $step) (local.get $fm))
            (f32.add (f32.div (f32.sqrt (local.get $fv)) (local.get $bc2)) (local.get $eps)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
  )


  ;; One row of log1pInput from its non-zero counts' column indices ($cols, i32 [n]) instead of a scan:
  ;; the row's g outputs are zeroed, then log1p (as in log1pInput) is taken of the listed counts four
  ;; at a time; returns their sum (double precision). With $table (f32 [4096]: this formula's value
  ;; at 0, 1, …, 4095, built by the caller; else 0) a group of four integer counts below 4096 is
  ;; looked up instead (the same bits, no logarithm).
  (func $log1pRowCsr (param $xr i32) (param $or i32) (param $cols i32) (param $n i32) (param $g i32) (param $table i32) (result f64)
    (local $t i32) (local $v v128) (local $u1 v128) (local $y v128) (local $sum f64) (local $sv f32) (local $su f32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $iv v128)
    (memory.fill (local.get $or) (i32.const 0) (i32.shl (local.get $g) (i32.const 2)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.gt_s (i32.add (local.get $t) (i32.const 4)) (local.get $n)))
        (local.set $c0 (i32.shl (i32.load offset=0 (i32.add (local.get $cols) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))
        (local.set $c1 (i32.shl (i32.load offset=4 (i32.add (local.get $cols) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))
        (local.set $c2 (i32.shl (i32.load offset=8 (i32.add (local.get $cols) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))
        (local.set $c3 (i32.shl (i32.load offset=12 (i32.add (local.get $cols) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))
        (local.set $v (f32x4.splat (f32.load (i32.add (local.get $xr) (local.get $c0)))))
        (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (i32.add (local.get $xr) (local.get $c1)))))
        (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (i32.add (local.get $xr) (local.get $c2)))))
        (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (i32.add (local.get $xr) (local.get $c3)))))
        (local.set $iv (i32x4.trunc_sat_f32x4_s (local.get $v)))
        (if (i32.and (i32.ne (local.get $table) (i32.const 0))
              (i32x4.all_true (v128.and (f32x4.eq (f32x4.convert_i32x4_s (local.get $iv)) (local.get $v))
                (i32x4.lt_u (local.get $iv) (v128.const i32x4 4096 4096 4096 4096)))))
          (then
            (local.set $iv (i32x4.shl (local.get $iv) (i32.const 2)))
            (local.set $y (f32x4.splat (f32.load (i32.add (local.get $table) (i32x4.extract_lane 0 (local.get $iv))))))
            (local.set $y (f32x4.replace_lane 1 (local.get $y) (f32.load (i32.add (local.get $table) (i32x4.extract_lane 1 (local.get $iv))))))
            (local.set $y (f32x4.replace_lane 2 (local.get $y) (f32.load (i32.add (local.get $table) (i32x4.extract_lane 2 (local.get $iv))))))
            (local.set $y (f32x4.replace_lane 3 (local.get $y) (f32.load (i32.add (local.get $table) (i32x4.extract_lane 3 (local.get $iv)))))))
          (else
            (local.set $u1 (f32x4.add (local.get $v) (v128.const f32x4 1 1 1 1)))
            (local.set $y (f32x4.sub (call $vlog (local.get $u1))
              (f32x4.div (f32x4.sub (f32x4.sub (local.get $u1) (v128.const f32x4 1 1 1 1)) (local.get $v)) (local.get $u1))))))
        (f32.store (i32.add (local.get $or) (local.get $c0)) (f32x4.extract_lane 0 (local.get $y)))
        (f32.store (i32.add (local.get $or) (local.get $c1)) (f32x4.extract_lane 1 (local.get $y)))
        (f32.store (i32.add (local.get $or) (local.get $c2)) (f32x4.extract_lane 2 (local.get $y)))
        (f32.store (i32.add (local.get $or) (local.get $c3)) (f32x4.extract_lane 3 (local.get $y)))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $v)))))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $v)))))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $v)))))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $v)))))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $vec)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_s (local.get $t) (local.get $n)))
        (local.set $c0 (i32.shl (i32.load (i32.add (local.get $cols) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))
        (local.set $sv (f32.load (i32.add (local.get $xr) (local.get $c0))))
        (local.set $su (f32.add (local.get $sv) (f32.const 1)))
        (f32.store (i32.add (local.get $or) (local.get $c0))
          (f32.sub (f32x4.extract_lane 0 (call $vlog (f32x4.splat (local.get $su))))
            (f32.div (f32.sub (f32.sub (local.get $su) (f32.const 1)) (local.get $sv)) (local.get $su))))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (local.get $sv))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tail)))
    (local.get $sum)
  )

  ;; The encoder input of an NB model: per row of b × g float32 counts $x, out = [log1p(x) | u]
  ;; (f32 [b, g + c]; u: f32 [b, c] covariates, copied) and lib = Σx (f32 [b], summed in double
  ;; precision). log1p(v) = ln(1+v) − ((1+v) − 1 − v)/(1+v) (the rounding of 1+v corrected); groups of
  ;; four zeros are written as zeros without a logarithm. With $csr (the counts' non-zeros built on the
  ;; host, see $rowIndices; else 0) no row is scanned: see $log1pRowCsr, and $table (or 0) is its table.
  (func (export "log1pInput") (param $x i32) (param $u i32) (param $out i32) (param $lib i32) (param $b i32) (param $g i32) (param $c i32) (param $csr i32) (param $table i32)
    (local $r i32) (local $start i32) (local $j i32) (local $xr i32) (local $or i32)
    (local $v v128) (local $u1 v128) (local $lo v128) (local $hi v128)
    (local $sv f32) (local $su f32) (local $sum f64)
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $b)))
        (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $g)) (i32.const 2))))
        (local.set $or (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (i32.add (local.get $g) (local.get $c))) (i32.const 2))))
        (if (local.get $csr)
          (then
            (local.set $start (i32.load (i32.add (local.get $csr) (i32.shl (local.get $r) (i32.const 2)))))
            (local.set $sum (call $log1pRowCsr (local.get $xr) (local.get $or)
              (i32.add (local.get $csr) (i32.shl (i32.add (i32.add (local.get $b) (i32.const 1)) (local.get $start)) (i32.const 2)))
              (i32.sub (i32.load (i32.add (local.get $csr) (i32.shl (i32.add (local.get $r) (i32.const 1)) (i32.const 2)))) (local.get $start))
              (local.get $g) (local.get $table))))
          (else
            (local.set $lo (v128.const f64x2 0 0))
            (local.set $hi (v128.const f64x2 0 0))
            (local.set $j (i32.const 0))
            (block $vecDone
              (loop $vec
                (br_if $vecDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $g)))
                (local.set $v (v128.load (i32.add (local.get $xr) (i32.shl (local.get $j) (i32.const 2)))))
                (if (v128.any_true (f32x4.ne (local.get $v) (v128.const f32x4 0 0 0 0)))
                  (then
                    (local.set $u1 (f32x4.add (local.get $v) (v128.const f32x4 1 1 1 1)))
                    (v128.store (i32.add (local.get $or) (i32.shl (local.get $j) (i32.const 2)))
                      (f32x4.sub (call $vlog (local.get $u1))
                        (f32x4.div (f32x4.sub (f32x4.sub (local.get $u1) (v128.const f32x4 1 1 1 1)) (local.get $v)) (local.get $u1))))
                    (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
                    (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))
                  (else
                    (v128.store (i32.add (local.get $or) (i32.shl (local.get $j) (i32.const 2))) (v128.const f32x4 0 0 0 0))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $vec)))
            (local.set $lo (f64x2.add (local.get $lo) (local.get $hi)))
            (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo))))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_s (local.get $j) (local.get $g)))
                (local.set $sv (f32.load (i32.add (local.get $xr) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $su (f32.add (local.get $sv) (f32.const 1)))
                (f32.store (i32.add (local.get $or) (i32.shl (local.get $j) (i32.const 2)))
                  (select
                    (f32.sub (f32x4.extract_lane 0 (call $vlog (f32x4.splat (local.get $su))))
                      (f32.div (f32.sub (f32.sub (local.get $su) (f32.const 1)) (local.get $sv)) (local.get $su)))
                    (f32.const 0)
                    (f32.ne (local.get $sv) (f32.const 0))))
                (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (local.get $sv))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tail)))
        
          ))
(memory.copy (i32.add (local.get $or) (i32.shl (local.get $g) (i32.const 2)))
          (i32.add (local.get $u) (i32.shl (i32.mul (local.get $r) (local.get $c)) (i32.const 2)))
          (i32.shl (local.get $c) (i32.const 2)))
        (f32.store (i32.add (local.get $lib) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $sum)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )


  ;; The non-zero counts' terms of the NB log-likelihood over each row's non-zero counts (b × g float32
  ;; $x, means $mu, ln(θ+μ+ε) $logT as nbForward wrote it): x(ln(μ+ε) − ln(θ+μ+ε)), four non-zeros at a
  ;; time (summed in two double-precision lane pairs, then the rest in order), then the count terms: for
  ;; an integer count 1 ≤ x ≤ 16, table[j·17 + x] (f64 [g, 17], lnΓ(x+θ_j) − lnΓ(θ_j) − ln x!, built by
  ;; the caller); any other non-zero count's flat index r·g + j goes to $exc (i32) for the caller.
  ;; rows[r] (f64 [b]) += the first sum, then += the second. $idx: i32 [g] scratch. $csr: the counts'
  ;; non-zeros built on the host, or 0 to scan the rows (see $rowIndices): a pattern of $csrRows rows
  ;; whose rows $r0 … $r0 + b − 1 are these. Returns the number of $exc entries.
  (func $nbCountTerms (export "nbCountTerms") (param $x i32) (param $mu i32) (param $logT i32) (param $eps f32) (param $table i32) (param $rows i32) (param $idx i32) (param $exc i32) (param $b i32) (param $g i32) (param $csr i32) (param $csrRows i32) (param $r0 i32) (result i32)
    (local $r i32) (local $n i32) (local $t i32) (local $j i32) (local $xr i32) (local $v f32) (local $xi i32) (local $m i32) (local $s f64)
    (local $mr i32) (local $tr i32) (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $xv v128) (local $mv v128) (local $lt v128)
    (local $term v128) (local $lo v128) (local $hi v128) (local $veps v128) (local $sv f32) (local $at i32)
    (local.set $veps (f32x4.splat (local.get $eps)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $b)))
        (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $g)) (i32.const 2))))
        (local.set $n (call $rowIndices (local.get $xr) (i32.add (local.get $r0) (local.get $r)) (local.get $g) (local.get $idx) (local.get $csr) (local.get $csrRows) (local.get $g)))
        (local.set $mr (i32.add (local.get $mu) (i32.shl (i32.mul (local.get $r) (local.get $g)) (i32.const 2))))
        (local.set $tr (i32.add (local.get $logT) (i32.shl (i32.mul (local.get $r) (local.get $g)) (i32.const 2))))
        ;; x(ln(μ+ε) − ln(θ+μ+ε)): four non-zeros at a time, gathered
        (local.set $lo (v128.const f64x2 0 0))
        (local.set $hi (v128.const f64x2 0 0))
        (local.set $t (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.gt_s (i32.add (local.get $t) (i32.const 4)) (local.get $n)))
            (local.set $at (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2))))
            (local.set $c0 (i32.shl (i32.load offset=0 (local.get $at)) (i32.const 2)))
            (local.set $c1 (i32.shl (i32.load offset=4 (local.get $at)) (i32.const 2)))
            (local.set $c2 (i32.shl (i32.load offset=8 (local.get $at)) (i32.const 2)))
            (local.set $c3 (i32.shl (i32.load offset=12 (local.get $at)) (i32.const 2)))
            (local.set $xv (v128.load32_zero (i32.add (local.get $xr) (local.get $c0))))
            (local.set $xv (v128.load32_lane 1 (i32.add (local.get $xr) (local.get $c1)) (local.get $xv)))
            (local.set $xv (v128.load32_lane 2 (i32.add (local.get $xr) (local.get $c2)) (local.get $xv)))
            (local.set $xv (v128.load32_lane 3 (i32.add (local.get $xr) (local.get $c3)) (local.get $xv)))
            (local.set $mv (v128.load32_zero (i32.add (local.get $mr) (local.get $c0))))
            (local.set $mv (v128.load32_lane 1 (i32.add (local.get $mr) (local.get $c1)) (local.get $mv)))
            (local.set $mv (v128.load32_lane 2 (i32.add (local.get $mr) (local.get $c2)) (local.get $mv)))
            (local.set $mv (v128.load32_lane 3 (i32.add (local.get $mr) (local.get $c3)) (local.get $mv)))
            (local.set $lt (v128.load32_zero (i32.add (local.get $tr) (local.get $c0))))
            (local.set $lt (v128.load32_lane 1 (i32.add (local.get $tr) (local.get $c1)) (local.get $lt)))
            (local.set $lt (v128.load32_lane 2 (i32.add (local.get $tr) (local.get $c2)) (local.get $lt)))
            (local.set $lt (v128.load32_lane 3 (i32.add (local.get $tr) (local.get $c3)) (local.get $lt)))
            (local.set $term (f32x4.mul (local.get $xv) (f32x4.sub (call $vlog (f32x4.add (local.get $mv) (local.get $veps))) (local.get $lt))))
            (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $term))))
            (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $term) (local.get $term)))))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $vec)))
        (local.set $lo (f64x2.add (local.get $lo) (local.get $hi)))
        (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo))))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $t) (local.get $n)))
            (local.set $c0 (i32.shl (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))
            (local.set $sv (f32.add (f32.load (i32.add (local.get $mr) (local.get $c0))) (local.get $eps)))
            (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.mul (f32.load (i32.add (local.get $xr) (local.get $c0)))
              (f32.sub (f32x4.extract_lane 0 (call $vlog (f32x4.splat (local.get $sv)))) (f32.load (i32.add (local.get $tr) (local.get $c0))))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $tail)))
        (local.set $at (i32.add (local.get $rows) (i32.shl (local.get $r) (i32.const 3))))
        (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (local.get $s)))
        ;; the count terms
        (local.set $s (f64.const 0))
        (local.set $t (i32.const 0))
        (block $nzDone
          (loop $nz
            (br_if $nzDone (i32.ge_s (local.get $t) (local.get $n)))
            (local.set $j (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $v (f32.load (i32.add (local.get $xr) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $xi (i32.trunc_sat_f32_s (local.get $v)))
            (if (i32.and (f32.eq (f32.trunc (local.get $v)) (local.get $v))
                  (i32.le_u (i32.sub (local.get $xi) (i32.const 1)) (i32.const 15)))
              (then
                (local.set $s (f64.add (local.get $s)
                  (f64.load (i32.add (local.get $table) (i32.shl (i32.add (i32.mul (local.get $j) (i32.const 17)) (local.get $xi)) (i32.const 3)))))))
              (else
                (i32.store (i32.add (local.get $exc) (i32.shl (local.get $m) (i32.const 2))) (i32.add (i32.mul (local.get $r) (local.get $g)) (local.get $j)))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $nz)))
        (local.set $xr (i32.add (local.get $rows) (i32.shl (local.get $r) (i32.const 3))))
        (f64.store (local.get $xr) (f64.add (f64.load (local.get $xr)) (local.get $s)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $m)
  )

  ;; The count part of dθ: for each non-zero integer count 1 ≤ x ≤ 16 at (r, j), acc[j] += dy[r]·table[j·17 + x]
  ;; (f64 [g, 17], ψ(x+θ_j) − ψ(θ_j)); other non-zero counts' flat indices go to $exc as in nbCountTerms.
  ;; $dy: f32 [b]; $acc: f64 [g], added to; $csr as in nbCountTerms. Returns the number of $exc entries.
  (func $nbCountGrads (export "nbCountGrads") (param $x i32) (param $table i32) (param $dy i32) (param $acc i32) (param $idx i32) (param $exc i32) (param $b i32) (param $g i32) (param $csr i32) (param $csrRows i32) (param $r0 i32) (result i32)
    (local $r i32) (local $n i32) (local $t i32) (local $j i32) (local $xr i32) (local $v f32) (local $xi i32) (local $m i32) (local $d f64) (local $a i32)
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $b)))
        (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $g)) (i32.const 2))))
        (local.set $n (call $rowIndices (local.get $xr) (i32.add (local.get $r0) (local.get $r)) (local.get $g) (local.get $idx) (local.get $csr) (local.get $csrRows) (local.get $g)))
        (local.set $d (f64.promote_f32 (f32.load (i32.add (local.get $dy) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $t (i32.const 0))
        (block $nzDone
          (loop $nz
            (br_if $nzDone (i32.ge_s (local.get $t) (local.get $n)))
            (local.set $j (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $v (f32.load (i32.add (local.get $xr) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $xi (i32.trunc_sat_f32_s (local.get $v)))
            (if (i32.and (f32.eq (f32.trunc (local.get $v)) (local.get $v))
                  (i32.le_u (i32.sub (local.get $xi) (i32.const 1)) (i32.const 15)))
              (then
                (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (f64.mul (local.get $d)
                  (f64.load (i32.add (local.get $table) (i32.shl (i32.add (i32.mul (local.get $j) (i32.const 17)) (local.get $xi)) (i32.const 3))))))))
              (else
                (i32.store (i32.add (local.get $exc) (i32.shl (local.get $m) (i32.const 2))) (i32.add (i32.mul (local.get $r) (local.get $g)) (local.get $j)))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $nz)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $m)
  )


  ;; Training-mode batch normalisation of x (f32 [n, c], c even), two columns at a time in double
  ;; precision, with the arithmetic and rounding of nn/batchnorm-kernels' JavaScript kernel (so equal
  ;; to it bit for bit): mean = Σx/n and var = Σ(x − mean)²/n (rows in order, f64, stored as f32),
  ;; inv = 1/√(f32(var + ε)), x̂ = f32((x − mean)·inv), out = x̂·γ + β.
  (func (export "batchNormForward")
    (param $x i32) (param $n i32) (param $c i32) (param $gamma i32) (param $beta i32) (param $eps f64)
    (param $out i32) (param $xhat i32) (param $mean i32) (param $var i32) (param $inv i32)
    (local $j i32) (local $r i32) (local $o i32) (local $stride i32) (local $col i32)
    (local $f v128) (local $acc v128) (local $m v128) (local $d v128) (local $iv v128) (local $gm v128) (local $bt v128) (local $nf v128) (local $h v128)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $nf (f64x2.splat (f64.convert_i32_s (local.get $n))))
    (block $colsDone
      (loop $cols
        (br_if $colsDone (i32.ge_s (local.get $j) (local.get $c)))
        (local.set $col (i32.shl (local.get $j) (i32.const 2)))
        ;; mean
        (local.set $acc (f64x2.splat (f64.const 0)))
        (local.set $o (local.get $col))
        (local.set $r (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_s (local.get $r) (local.get $n)))
          (local.set $acc (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $o))))))
          (local.set $o (i32.add (local.get $o) (local.get $stride)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $l1)))
        (local.set $f (f32x4.demote_f64x2_zero (f64x2.div (local.get $acc) (local.get $nf))))
        (v128.store64_lane 0 (i32.add (local.get $mean) (local.get $col)) (local.get $f))
        (local.set $m (f64x2.promote_low_f32x4 (local.get $f)))
        ;; variance, inv
        (local.set $acc (f64x2.splat (f64.const 0)))
        (local.set $o (local.get $col))
        (local.set $r (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_s (local.get $r) (local.get $n)))
          (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $o)))) (local.get $m)))
          (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $d) (local.get $d))))
          (local.set $o (i32.add (local.get $o) (local.get $stride)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $l2)))
        (local.set $f (f32x4.demote_f64x2_zero (f64x2.div (local.get $acc) (local.get $nf))))
        (v128.store64_lane 0 (i32.add (local.get $var) (local.get $col)) (local.get $f))
        (local.set $d (f64x2.promote_low_f32x4 (local.get $f)))
        (local.set $d (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $d) (f64x2.splat (local.get $eps))))))
        (local.set $f (f32x4.demote_f64x2_zero (f64x2.div (f64x2.splat (f64.const 1)) (f64x2.sqrt (local.get $d)))))
        (v128.store64_lane 0 (i32.add (local.get $inv) (local.get $col)) (local.get $f))
        (local.set $iv (f64x2.promote_low_f32x4 (local.get $f)))
        ;; x̂ and out
        (local.set $gm (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gamma) (local.get $col)))))
        (local.set $bt (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $beta) (local.get $col)))))
        (local.set $o (local.get $col))
        (local.set $r (i32.const 0))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_s (local.get $r) (local.get $n)))
          (local.set $f (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $o)))) (local.get $m)) (local.get $iv))))
        (v128.store64_lane 0 (i32.add (local.get $xhat) (local.get $o)) (local.get $f))
        (local.set $h (f64x2.promote_low_f32x4 (local.get $f)))
          (v128.store64_lane 0 (i32.add (local.get $out) (local.get $o)) (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $h) (local.get $gm)) (local.get $bt))))
          (local.set $o (i32.add (local.get $o) (local.get $stride)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $l3)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $cols)))
  )

  ;; Its gradient given dy and x̂ (f32 [n, c], c even), as nn/batchnorm-kernels' JavaScript kernel
  ;; (equal to it bit for bit): dβ = Σ dy, dγ = Σ dy·x̂ (rows in order, f64, stored as f32) and
  ;; dx = (γ·inv)·(dy − (dβ + x̂·dγ)/n) with the stored dβ, dγ.
  (func (export "batchNormBackward")
    (param $dy i32) (param $xhat i32) (param $inv i32) (param $gamma i32) (param $n i32) (param $c i32)
    (param $dx i32) (param $dGamma i32) (param $dBeta i32)
    (local $j i32) (local $r i32) (local $o i32) (local $stride i32) (local $col i32)
    (local $sb v128) (local $sg v128) (local $d v128) (local $f v128) (local $nf v128)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $nf (f64x2.splat (f64.convert_i32_s (local.get $n))))
    (block $colsDone
      (loop $cols
        (br_if $colsDone (i32.ge_s (local.get $j) (local.get $c)))
        (local.set $col (i32.shl (local.get $j) (i32.const 2)))
        (local.set $sb (f64x2.splat (f64.const 0)))
        (local.set $sg (f64x2.splat (f64.const 0)))
        (local.set $o (local.get $col))
        (local.set $r (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_s (local.get $r) (local.get $n)))
          (local.set $d (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dy) (local.get $o)))))
          (local.set $sb (f64x2.add (local.get $sb) (local.get $d)))
          (local.set $sg (f64x2.add (local.get $sg) (f64x2.mul (local.get $d) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $xhat) (local.get $o)))))))
          (local.set $o (i32.add (local.get $o) (local.get $stride)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $l1)))
        (local.set $f (f32x4.demote_f64x2_zero (local.get $sb)))
        (v128.store64_lane 0 (i32.add (local.get $dBeta) (local.get $col)) (local.get $f))
        (local.set $sb (f64x2.promote_low_f32x4 (local.get $f)))
        (local.set $f (f32x4.demote_f64x2_zero (local.get $sg)))
        (v128.store64_lane 0 (i32.add (local.get $dGamma) (local.get $col)) (local.get $f))
        (local.set $sg (f64x2.promote_low_f32x4 (local.get $f)))
        (local.set $f (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gamma) (local.get $col)))) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $inv) (local.get $col))))))
        (local.set $o (local.get $col))
        (local.set $r (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_s (local.get $r) (local.get $n)))
          (v128.store64_lane 0 (i32.add (local.get $dx) (local.get $o)) (f32x4.demote_f64x2_zero (f64x2.mul (local.get $f)
              (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dy) (local.get $o))))
                (f64x2.div (f64x2.add (local.get $sb) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $xhat) (local.get $o)))) (local.get $sg))) (local.get $nf))))))
          (local.set $o (i32.add (local.get $o) (local.get $stride)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $l2)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $cols)))
  )

  ;; Dropout multiplier for n values at $out: $value where the counter-based splitmix32 draw of element
  ;; i (state = seed + (i+1)·0x9e3779b9, mixed as nn/dropout-mask's JavaScript kernel) exceeds the
  ;; threshold $t = floor(rate·2^32) (unsigned), else 0 — the JavaScript kernel's mask bit for bit.
  (func (export "dropoutMask") (param $out i32) (param $n i32) (param $seed i32) (param $t i32) (param $value f32)
    (local $i i32) (local $n4 i32) (local $st v128) (local $z v128) (local $vt v128) (local $vv v128) (local $zs i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $st (i32x4.add (i32x4.splat (local.get $seed))
      (v128.const i32x4 0x9e3779b9 0x3c6ef372 0xdaa66d2b 0x78dde6e4)))
    (local.set $vt (i32x4.splat (local.get $t)))
    (local.set $vv (f32x4.splat (local.get $value)))
    (block $vDone
      (loop $vLoop
        (br_if $vDone (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $z (local.get $st))
        (local.set $z (i32x4.mul (v128.xor (local.get $z) (i32x4.shr_u (local.get $z) (i32.const 16))) (i32x4.splat (i32.const 0x85ebca6b))))
        (local.set $z (i32x4.mul (v128.xor (local.get $z) (i32x4.shr_u (local.get $z) (i32.const 13))) (i32x4.splat (i32.const 0xc2b2ae35))))
        (local.set $z (v128.xor (local.get $z) (i32x4.shr_u (local.get $z) (i32.const 16))))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (v128.and (i32x4.gt_u (local.get $z) (local.get $vt)) (local.get $vv)))
        (local.set $st (i32x4.add (local.get $st) (i32x4.splat (i32.const 0x78dde6e4))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vLoop)))
    (block $sDone
      (loop $sLoop
        (br_if $sDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $zs (i32.add (local.get $seed) (i32.mul (i32.add (local.get $i) (i32.const 1)) (i32.const 0x9e3779b9))))
        (local.set $zs (i32.mul (i32.xor (local.get $zs) (i32.shr_u (local.get $zs) (i32.const 16))) (i32.const 0x85ebca6b)))
        (local.set $zs (i32.mul (i32.xor (local.get $zs) (i32.shr_u (local.get $zs) (i32.const 13))) (i32.const 0xc2b2ae35)))
        (local.set $zs (i32.xor (local.get $zs) (i32.shr_u (local.get $zs) (i32.const 16))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (select (local.get $value) (f32.const 0) (i32.gt_u (local.get $zs) (local.get $t))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sLoop)))
  )

  ;; out = act(y) * mask over n float32 values, the arithmetic of nn/batchnorm-kernels' activateInto:
  ;; act 0 none, 1 relu (y < 0 ? +0 : y), 2 lrelu (y < 0 ? slope * y : y); times mask unless hasMask = 0.
  (func (export "activateMask") (param $y i32) (param $mask i32) (param $out i32) (param $n i32) (param $act i32) (param $slope f32) (param $hasMask i32)
    (local $i i32) (local $n4 i32) (local $off i32) (local $v v128) (local $a v128) (local $vs v128) (local $f f32) (local $g f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $vs (f32x4.splat (local.get $slope)))
    (block $vDone
      (loop $vLoop
        (br_if $vDone (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $v (v128.load (i32.add (local.get $y) (local.get $off))))
        (local.set $a (local.get $v))
        (if (i32.eq (local.get $act) (i32.const 1))
          (then (local.set $a (v128.bitselect (v128.const i32x4 0 0 0 0) (local.get $v) (f32x4.lt (local.get $v) (v128.const i32x4 0 0 0 0))))))
        (if (i32.eq (local.get $act) (i32.const 2))
          (then (local.set $a (v128.bitselect (f32x4.mul (local.get $vs) (local.get $v)) (local.get $v) (f32x4.lt (local.get $v) (v128.const i32x4 0 0 0 0))))))
        (if (local.get $hasMask)
          (then (local.set $a (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $mask) (local.get $off)))))))
        (v128.store (i32.add (local.get $out) (local.get $off)) (local.get $a))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vLoop)))
    (block $sDone
      (loop $sLoop
        (br_if $sDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $f (f32.load (i32.add (local.get $y) (local.get $off))))
        (local.set $g (local.get $f))
        (if (i32.eq (local.get $act) (i32.const 1))
          (then (local.set $g (select (f32.const 0) (local.get $f) (f32.lt (local.get $f) (f32.const 0))))))
        (if (i32.eq (local.get $act) (i32.const 2))
          (then (local.set $g (select (f32.mul (local.get $slope) (local.get $f)) (local.get $f) (f32.lt (local.get $f) (f32.const 0))))))
        (if (local.get $hasMask)
          (then (local.set $g (f32.mul (local.get $g) (f32.load (i32.add (local.get $mask) (local.get $off)))))))
        (f32.store (i32.add (local.get $out) (local.get $off)) (local.get $g))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sLoop)))
  )

  ;; Its gradient (nn/batchnorm-kernels' activationGradInto): d = dout * mask (dout unless hasMask), then
  ;; relu d * step(y) (1 where y > 0, y itself where y is NaN, else 0), lrelu y > 0 ? d : d * slope.
  (func (export "activationGrad") (param $dout i32) (param $y i32) (param $mask i32) (param $dy i32) (param $n i32) (param $act i32) (param $slope f32) (param $hasMask i32)
    (local $i i32) (local $n4 i32) (local $off i32) (local $v v128) (local $d v128) (local $vs v128) (local $f f32) (local $e f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $vs (f32x4.splat (local.get $slope)))
    (block $vDone
      (loop $vLoop
        (br_if $vDone (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $d (v128.load (i32.add (local.get $dout) (local.get $off))))
        (if (local.get $hasMask)
          (then (local.set $d (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $mask) (local.get $off)))))))
        (local.set $v (v128.load (i32.add (local.get $y) (local.get $off))))
        (if (i32.eq (local.get $act) (i32.const 1))
          (then (local.set $d (f32x4.mul (local.get $d)
            (v128.bitselect (v128.const f32x4 1 1 1 1)
              (v128.bitselect (local.get $v) (v128.const i32x4 0 0 0 0) (f32x4.ne (local.get $v) (local.get $v)))
              (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0)))))))
        (if (i32.eq (local.get $act) (i32.const 2))
          (then (local.set $d (v128.bitselect (local.get $d) (f32x4.mul (local.get $d) (local.get $vs)) (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0))))))
        (v128.store (i32.add (local.get $dy) (local.get $off)) (local.get $d))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vLoop)))
    (block $sDone
      (loop $sLoop
        (br_if $sDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $e (f32.load (i32.add (local.get $dout) (local.get $off))))
        (if (local.get $hasMask)
          (then (local.set $e (f32.mul (local.get $e) (f32.load (i32.add (local.get $mask) (local.get $off)))))))
        (local.set $f (f32.load (i32.add (local.get $y) (local.get $off))))
        (if (i32.eq (local.get $act) (i32.const 1))
          (then (local.set $e (f32.mul (local.get $e)
            (select (f32.const 1) (select (local.get $f) (f32.const 0) (f32.ne (local.get $f) (local.get $f))) (f32.gt (local.get $f) (f32.const 0)))))))
        (if (i32.eq (local.get $act) (i32.const 2))
          (then (local.set $e (select (local.get $e) (f32.mul (local.get $e) (local.get $slope)) (f32.gt (local.get $f) (f32.const 0))))))
        (f32.store (i32.add (local.get $dy) (local.get $off)) (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sLoop)))
  )

  ;; ---- products (also the threaded ones of src/fused/gemm.wat, which includes these functions)

  ;; Stores the first `cols` (1…8) values of [v0 | v1] (plus bias[0…cols) when $bias ≠ 0) at $dst.
  ;; @inline
  (func $store8 (param $dst i32) (param $v0 v128) (param $v1 v128) (param $bias i32) (param $cols i32)
    (if (local.get $bias)
      (then
        (local.set $v0 (f32x4.add (local.get $v0) (v128.load (local.get $bias))))
        (local.set $v1 (f32x4.add (local.get $v1) (v128.load offset=16 (local.get $bias))))))
    (if (i32.ge_u (local.get $cols) (i32.const 8))
      (then
        (v128.store (local.get $dst) (local.get $v0))
        (v128.store offset=16 (local.get $dst) (local.get $v1))
        (return)))
    (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $v0)))
    (if (i32.le_u (local.get $cols) (i32.const 1)) (then (return)))
    (f32.store offset=4 (local.get $dst) (f32x4.extract_lane 1 (local.get $v0)))
    (if (i32.le_u (local.get $cols) (i32.const 2)) (then (return)))
    (f32.store offset=8 (local.get $dst) (f32x4.extract_lane 2 (local.get $v0)))
    (if (i32.le_u (local.get $cols) (i32.const 3)) (then (return)))
    (f32.store offset=12 (local.get $dst) (f32x4.extract_lane 3 (local.get $v0)))
    (if (i32.le_u (local.get $cols) (i32.const 4)) (then (return)))
    (f32.store offset=16 (local.get $dst) (f32x4.extract_lane 0 (local.get $v1)))
    (if (i32.le_u (local.get $cols) (i32.const 5)) (then (return)))
    (f32.store offset=20 (local.get $dst) (f32x4.extract_lane 1 (local.get $v1)))
    (if (i32.le_u (local.get $cols) (i32.const 6)) (then (return)))
    (f32.store offset=24 (local.get $dst) (f32x4.extract_lane 2 (local.get $v1)))
  )

  ;; C[i, j] = Σ_p A(i, p)·B[p, j] (+ bias[j] when $bias ≠ 0) for rows $r0 ≤ i < $r1 and the columns
  ;; of panels $jb0 ≤ jb < $jb1 (columns 8jb … 8jb+7 below $n). A(i, p) is the float32 at
  ;; a + 4(i·si + p·sp) (row-major: si = lda, sp = 1; transposed: si = 1, sp = lda). B [k, n] is packed
  ;; in panels of 8 columns (see packPanels): panel jb holds B[p, 8jb + c] at bp + 4(8k·jb + 8p + c),
  ;; zero beyond n. C rows are ldc apart. Rows outer, panels inner: a block of A rows stays in cache
  ;; while the packed panels stream past it.
  (func (export "gemm")
    (param $a i32) (param $si i32) (param $sp i32) (param $bp i32) (param $c i32) (param $ldc i32)
    (param $bias i32) (param $n i32) (param $k i32) (param $r0 i32) (param $r1 i32) (param $jb0 i32) (param $jb1 i32)
    (local $jb i32) (local $panels i32) (local $i i32) (local $si4 i32) (local $ldc4 i32) (local $pa i32) (local $dst i32)
    (local.set $si4 (i32.shl (local.get $si) (i32.const 2)))
    (local.set $ldc4 (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $panels (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))
    (if (i32.lt_s (local.get $jb1) (local.get $panels)) (then (local.set $panels (local.get $jb1))))
    (local.set $i (local.get $r0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $r1)))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $si4))))
        (local.set $jb (local.get $jb0))
        (block $panelsDone
          (loop $panelLoop
            (br_if $panelsDone (i32.ge_s (local.get $jb) (local.get $panels)))
            (local.set $dst (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc4)) (i32.shl (local.get $jb) (i32.const 5)))))
            (if (i32.le_s (i32.add (local.get $i) (i32.const 4)) (local.get $r1))
              (then
                (call $block4 (local.get $pa) (local.get $si4) (i32.shl (local.get $sp) (i32.const 2))
                  (i32.add (local.get $bp) (i32.mul (local.get $jb) (i32.shl (local.get $k) (i32.const 5))))
                  (local.get $k) (local.get $dst) (local.get $ldc4)
                  (select (i32.add (local.get $bias) (i32.shl (local.get $jb) (i32.const 5))) (i32.const 0) (local.get $bias))
                  (i32.sub (local.get $n) (i32.shl (local.get $jb) (i32.const 3)))))
              (else
                (call $block1 (local.get $pa) (i32.shl (local.get $sp) (i32.const 2))
                  (i32.add (local.get $bp) (i32.mul (local.get $jb) (i32.shl (local.get $k) (i32.const 5))))
                  (local.get $k) (local.get $dst)
                  (select (i32.add (local.get $bias) (i32.shl (local.get $jb) (i32.const 5))) (i32.const 0) (local.get $bias))
                  (i32.sub (local.get $n) (i32.shl (local.get $jb) (i32.const 3))))))
            (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
            (br $panelLoop)))
        (local.set $i (i32.add (local.get $i) (select (i32.const 4) (i32.const 1) (i32.le_s (i32.add (local.get $i) (i32.const 4)) (local.get $r1)))))
        (br $rowLoop)))
  )

  ;; One 4-row × 8-column block of gemm: rows at $pa, $pa + si4, … (byte strides), panel at $pb.
  (func $block4 (param $pa0 i32) (param $si4 i32) (param $sp4 i32) (param $pb i32) (param $k i32) (param $dst i32) (param $ldc4 i32) (param $bias i32) (param $cols i32)
    (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pbEnd i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (local.set $pa1 (i32.add (local.get $pa0) (local.get $si4)))
    (local.set $pa2 (i32.add (local.get $pa1) (local.get $si4)))
    (local.set $pa3 (i32.add (local.get $pa2) (local.get $si4)))
    (local.set $pbEnd (i32.add (local.get $pb) (i32.shl (local.get $k) (i32.const 5))))
    (block $kDone
      (loop $kLoop
        (br_if $kDone (i32.eq (local.get $pb) (local.get $pbEnd)))
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $av (v128.load32_splat (local.get $pa0)))
        (local.set $a00 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $a00)))
        (local.set $a01 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $a01)))
        (local.set $av (v128.load32_splat (local.get $pa1)))
        (local.set $a10 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $a10)))
        (local.set $a11 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $a11)))
        (local.set $av (v128.load32_splat (local.get $pa2)))
        (local.set $a20 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $a20)))
        (local.set $a21 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $a21)))
        (local.set $av (v128.load32_splat (local.get $pa3)))
        (local.set $a30 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $a30)))
        (local.set $a31 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $a31)))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sp4)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $sp4)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $sp4)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $sp4)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
        (br $kLoop)))
    (call $store8 (local.get $dst) (local.get $a00) (local.get $a01) (local.get $bias) (local.get $cols))
    (local.set $dst (i32.add (local.get $dst) (local.get $ldc4)))
    (call $store8 (local.get $dst) (local.get $a10) (local.get $a11) (local.get $bias) (local.get $cols))
    (local.set $dst (i32.add (local.get $dst) (local.get $ldc4)))
    (call $store8 (local.get $dst) (local.get $a20) (local.get $a21) (local.get $bias) (local.get $cols))
    (local.set $dst (i32.add (local.get $dst) (local.get $ldc4)))
    (call $store8 (local.get $dst) (local.get $a30) (local.get $a31) (local.get $bias) (local.get $cols))
  )

  ;; One row × 8 columns of gemm (the same arithmetic per element as $block4).
  (func $block1 (param $pa0 i32) (param $sp4 i32) (param $pb i32) (param $k i32) (param $dst i32) (param $bias i32) (param $cols i32)
    (local $pbEnd i32) (local $a00 v128) (local $a01 v128) (local $av v128)
    (local.set $pbEnd (i32.add (local.get $pb) (i32.shl (local.get $k) (i32.const 5))))
    (block $kDone
      (loop $kLoop
        (br_if $kDone (i32.eq (local.get $pb) (local.get $pbEnd)))
        (local.set $av (v128.load32_splat (local.get $pa0)))
        (local.set $a00 (f32x4.relaxed_madd (local.get $av) (v128.load (local.get $pb)) (local.get $a00)))
        (local.set $a01 (f32x4.relaxed_madd (local.get $av) (v128.load offset=16 (local.get $pb)) (local.get $a01)))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sp4)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
        (br $kLoop)))
    (call $store8 (local.get $dst) (local.get $a00) (local.get $a01) (local.get $bias) (local.get $cols))
  )

  ;; Packs panels $jb0 ≤ jb < $jb1 of B [k, n] for gemm: dst + 4(8k·jb + 8p + c) = B[p, 8jb + c]
  ;; (0 where 8jb + c ≥ n), B[p, j] read at src + 4(p·sp + j·sj) (B itself: sp = ld, sj = 1; the
  ;; transpose of a row-major M [n, k]: sp = 1, sj = ld).
  (func (export "packPanels")
    (param $src i32) (param $sp i32) (param $sj i32) (param $k i32) (param $n i32) (param $dst i32) (param $jb0 i32) (param $jb1 i32)
    (local $jb i32) (local $p i32) (local $cc i32) (local $j i32) (local $out i32) (local $row i32)
    (local.set $jb (local.get $jb0))
    (local.set $sp (i32.shl (local.get $sp) (i32.const 2)))
    (local.set $sj (i32.shl (local.get $sj) (i32.const 2)))
    (block $done
      (loop $panel
        (br_if $done (i32.ge_s (local.get $jb) (local.get $jb1)))
        (local.set $out (i32.add (local.get $dst) (i32.mul (local.get $jb) (i32.shl (local.get $k) (i32.const 5)))))
        (local.set $p (i32.const 0))
        ;; a full panel (no column at or beyond n): no test per element; contiguous columns (sj = 1)
        ;; copied as two vectors per p, strided ones (a transpose) as eight loads
        (if (i32.le_s (i32.shl (i32.add (local.get $jb) (i32.const 1)) (i32.const 3)) (local.get $n))
          (then
            (local.set $row (i32.add (local.get $src) (i32.mul (i32.shl (local.get $jb) (i32.const 3)) (local.get $sj))))
            (if (i32.eq (local.get $sj) (i32.const 4))
              (then
                (block $vDone
                  (loop $vLoop
                    (br_if $vDone (i32.ge_s (local.get $p) (local.get $k)))
                    (v128.store (local.get $out) (v128.load (local.get $row)))
                    (v128.store offset=16 (local.get $out) (v128.load offset=16 (local.get $row)))
                    (local.set $row (i32.add (local.get $row) (local.get $sp)))
                    (local.set $out (i32.add (local.get $out) (i32.const 32)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $vLoop))))
              (else
                (block $sDone
                  (loop $sLoop
                    (br_if $sDone (i32.ge_s (local.get $p) (local.get $k)))
                    (local.set $j (local.get $row))
                    (f32.store offset=0 (local.get $out) (f32.load (local.get $j)))
                    (local.set $j (i32.add (local.get $j) (local.get $sj)))
                    (f32.store offset=4 (local.get $out) (f32.load (local.get $j)))
                    (local.set $j (i32.add (local.get $j) (local.get $sj)))
                    (f32.store offset=8 (local.get $out) (f32.load (local.get $j)))
                    (local.set $j (i32.add (local.get $j) (local.get $sj)))
                    (f32.store offset=12 (local.get $out) (f32.load (local.get $j)))
                    (local.set $j (i32.add (local.get $j) (local.get $sj)))
                    (f32.store offset=16 (local.get $out) (f32.load (local.get $j)))
                    (local.set $j (i32.add (local.get $j) (local.get $sj)))
                    (f32.store offset=20 (local.get $out) (f32.load (local.get $j)))
                    (local.set $j (i32.add (local.get $j) (local.get $sj)))
                    (f32.store offset=24 (local.get $out) (f32.load (local.get $j)))
                    (local.set $j (i32.add (local.get $j) (local.get $sj)))
                    (f32.store offset=28 (local.get $out) (f32.load (local.get $j)))
                    (local.set $row (i32.add (local.get $row) (local.get $sp)))
                    (local.set $out (i32.add (local.get $out) (i32.const 32)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $sLoop)))))))
        (block $pDone
          (loop $pLoop
            (br_if $pDone (i32.ge_s (local.get $p) (local.get $k)))
            (local.set $row (i32.add (local.get $src) (i32.mul (local.get $p) (local.get $sp))))
            (local.set $cc (i32.const 0))
            (block $cDone
              (loop $cLoop
                (br_if $cDone (i32.ge_s (local.get $cc) (i32.const 8)))
                (local.set $j (i32.add (i32.shl (local.get $jb) (i32.const 3)) (local.get $cc)))
                (f32.store (local.get $out)
                  (select
                    (f32.load (i32.add (local.get $row) (i32.mul (select (local.get $j) (i32.const 0) (i32.lt_s (local.get $j) (local.get $n))) (local.get $sj))))
                    (f32.const 0)
                    (i32.lt_s (local.get $j) (local.get $n))))
                (local.set $out (i32.add (local.get $out) (i32.const 4)))
                (local.set $cc (i32.add (local.get $cc) (i32.const 1)))
                (br $cLoop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pLoop)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
        (br $panel)))
  )

  ;; out[j] = Σ_{i<m} A[i, j] (rows in order) for columns $c0 ≤ j < $c1 of a row-major A with rows ld apart.
  (func (export "colSums") (param $a i32) (param $ld i32) (param $m i32) (param $out i32) (param $c0 i32) (param $c1 i32)
    (local $j i32) (local $i i32) (local $ptr i32) (local $acc v128) (local $s f32) (local $ld4 i32)
    (local.set $ld4 (i32.shl (local.get $ld) (i32.const 2)))
    (local.set $j (local.get $c0))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $c1)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $ptr (i32.add (local.get $a) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (local.get $m))
        (block $iDone
          (loop $iLoop
            (br_if $iDone (i32.eqz (local.get $i)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $ptr))))
            (local.set $ptr (i32.add (local.get $ptr) (local.get $ld4)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $iLoop)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
    (block $scalarDone
      (loop $scalar
        (br_if $scalarDone (i32.ge_s (local.get $j) (local.get $c1)))
        (local.set $s (f32.const 0))
        (local.set $ptr (i32.add (local.get $a) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (local.get $m))
        (block $iDone1
          (loop $iLoop1
            (br_if $iDone1 (i32.eqz (local.get $i)))
            (local.set $s (f32.add (local.get $s) (f32.load (local.get $ptr))))
            (local.set $ptr (i32.add (local.get $ptr) (local.get $ld4)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $iLoop1)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $scalar)))
  )
)
