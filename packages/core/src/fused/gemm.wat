;; invae's threaded product kernels: run on one shared memory (imported as env.memory) by every
;; thread of a `FusedThreads` pool, each thread calling a kernel on its own slice of the output
;; (rows of a product, panels of a packing, columns of a sum). Every pointer is a byte offset into
;; the shared memory, every size a count of elements. Compiled by packages/core/scripts/build-wasm.mjs
;; into src/fused/gemm-binary.ts (checked by test/fused-gemm.test.ts), with the functions of
;; src/wasm/kernels.wat added to the module: the product kernels (gemm, packPanels, colSums), which
;; the engine-memory module runs on one thread too, and the NB kernels the wrappers below call.
;;
;; Determinism: each output element is computed by exactly one call, as a sum in a fixed order
;; (p = 0, 1, …, k−1 for a product, rows in order for a column sum) of separately rounded float32
;; products and additions, whichever row block or lane computes it. How the rows are split among
;; threads therefore never changes a result: 1 and N threads give bit-identical outputs.
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; the host's Math.log: the special functions below then give the JavaScript values bit for bit
  (import "env" "log" (func $log (param f64) (result f64)))

  ;; e^x for 4 lanes (Cephes' expf: x = n·ln 2 + r, |r| ≤ ln2/2, degree-5 polynomial of r, times
  ;; 2^n from the exponent bits; about 1 ulp). x is clamped to [−87.3, 88.3] (e^x a normal float32;
  ;; by pseudo-min/max, one instruction each where min/max take several: a NaN lane stays NaN);
  ;; no fused multiply-add, so every lane and thread rounds alike.
  ;; @inline
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88.3 88.3 88.3 88.3)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
  )

  ;; Softmax of rows $r0 ≤ r < $r1 of logits L [·, g] (row-major) into freq, and μ = freq · lib[r]
  ;; into mu: per row the maximum (vector pseudo-max: a NaN logit does not enter it, but its e and so
  ;; the sum and every freq of the row are NaN), e = exp(l − max), their sum (4 lanes, then
  ;; (s0+s1)+(s2+s3), then the tail in order), freq = e / sum. Each row is computed alone: the row split never changes a result.
  (func (export "softmaxLibRows") (param $l i32) (param $lib i32) (param $f i32) (param $mu i32) (param $g i32) (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $off i32) (local $j i32) (local $g4 i32) (local $mx v128) (local $m f32) (local $acc v128) (local $s f32)
    (local $e v128) (local $sv v128) (local $lv v128) (local $ptr i32)
    (local.set $g4 (i32.and (local.get $g) (i32.const -4)))
    (local.set $r (local.get $r0))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $r1)))
        (local.set $off (i32.shl (i32.mul (local.get $r) (local.get $g)) (i32.const 2)))
        ;; maximum
        (local.set $mx (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $j (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_s (local.get $j) (local.get $g4)))
          (local.set $mx (f32x4.pmax (local.get $mx) (v128.load (i32.add (i32.add (local.get $l) (local.get $off)) (i32.shl (local.get $j) (i32.const 2))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l1)))
        (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
                               (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_s (local.get $j) (local.get $g)))
          (local.set $m (f32.max (local.get $m) (f32.load (i32.add (i32.add (local.get $l) (local.get $off)) (i32.shl (local.get $j) (i32.const 2))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l2)))
        ;; e = exp(l − max) into freq, summed
        (local.set $mx (f32x4.splat (local.get $m)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_s (local.get $j) (local.get $g4)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $e (call $exp4 (f32x4.sub (v128.load (i32.add (local.get $l) (local.get $ptr))) (local.get $mx))))
          (v128.store (i32.add (local.get $f) (local.get $ptr)) (local.get $e))
          (local.set $acc (f32x4.add (local.get $acc) (local.get $e)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l3)))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                               (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $d4 (loop $l4
          (br_if $d4 (i32.ge_s (local.get $j) (local.get $g)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $e (call $exp4 (f32x4.sub (f32x4.splat (f32.load (i32.add (local.get $l) (local.get $ptr)))) (local.get $mx))))
          (f32.store (i32.add (local.get $f) (local.get $ptr)) (f32x4.extract_lane 0 (local.get $e)))
          (local.set $s (f32.add (local.get $s) (f32x4.extract_lane 0 (local.get $e))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l4)))
        ;; freq = e / sum, μ = freq · lib[r]
        (local.set $sv (f32x4.splat (local.get $s)))
        (local.set $lv (f32x4.splat (f32.load (i32.add (local.get $lib) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $j (i32.const 0))
        (block $d5 (loop $l5
          (br_if $d5 (i32.ge_s (local.get $j) (local.get $g4)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $e (f32x4.div (v128.load (i32.add (local.get $f) (local.get $ptr))) (local.get $sv)))
          (v128.store (i32.add (local.get $f) (local.get $ptr)) (local.get $e))
          (v128.store (i32.add (local.get $mu) (local.get $ptr)) (f32x4.mul (local.get $e) (local.get $lv)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l5)))
        (block $d6 (loop $l6
          (br_if $d6 (i32.ge_s (local.get $j) (local.get $g)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $m (f32.div (f32.load (i32.add (local.get $f) (local.get $ptr))) (local.get $s)))
          (f32.store (i32.add (local.get $f) (local.get $ptr)) (local.get $m))
          (f32.store (i32.add (local.get $mu) (local.get $ptr)) (f32.mul (local.get $m) (f32x4.extract_lane 0 (local.get $lv))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l6)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )

  ;; Gradient of μ = softmax(l) · lib[r] for rows $r0 ≤ r < $r1: dl = (freq · (dμ − S)) · lib[r] with
  ;; S = Σ_j freq_j dμ_j (summed as in softmaxLibRows), into dl. Each row alone, as above.
  (func (export "softmaxLibBackRows") (param $f i32) (param $lib i32) (param $dmu i32) (param $dl i32) (param $g i32) (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $off i32) (local $j i32) (local $g4 i32) (local $acc v128) (local $s f32) (local $sv v128) (local $lv v128) (local $ptr i32) (local $lib1 f32)
    (local.set $g4 (i32.and (local.get $g) (i32.const -4)))
    (local.set $r (local.get $r0))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $r1)))
        (local.set $off (i32.shl (i32.mul (local.get $r) (local.get $g)) (i32.const 2)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_s (local.get $j) (local.get $g4)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $f) (local.get $ptr))) (v128.load (i32.add (local.get $dmu) (local.get $ptr))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l1)))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                               (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_s (local.get $j) (local.get $g)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (i32.add (local.get $f) (local.get $ptr))) (f32.load (i32.add (local.get $dmu) (local.get $ptr))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l2)))
        (local.set $sv (f32x4.splat (local.get $s)))
        (local.set $lib1 (f32.load (i32.add (local.get $lib) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $lv (f32x4.splat (local.get $lib1)))
        (local.set $j (i32.const 0))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_s (local.get $j) (local.get $g4)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (v128.store (i32.add (local.get $dl) (local.get $ptr))
            (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $f) (local.get $ptr))) (f32x4.sub (v128.load (i32.add (local.get $dmu) (local.get $ptr))) (local.get $sv))) (local.get $lv)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $l3)))
        (block $d4 (loop $l4
          (br_if $d4 (i32.ge_s (local.get $j) (local.get $g)))
          (local.set $ptr (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 2))))
          (f32.store (i32.add (local.get $dl) (local.get $ptr))
            (f32.mul (f32.mul (f32.load (i32.add (local.get $f) (local.get $ptr))) (f32.sub (f32.load (i32.add (local.get $dmu) (local.get $ptr))) (local.get $s))) (local.get $lib1)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )

  ;; The NB log-likelihood kernels of kernels.wat (included below) over fixed chunks of $chunkRows
  ;; rows, chunks $c0 ≤ c < $c1 of a [b, g] minibatch (the chunks, not the threads, fix the results).
  ;; Forward: per chunk nbForward then nbCountTerms (the non-zero counts' terms; rows f64 [b], written); chunk c's counts outside
  ;; the table go to exc + 4·r0·g as indices relative to its first row r0, their number to counts[c];
  ;; idx: i32 [chunks, g] scratch. ε is passed as its float32 bits. $csr: the minibatch's non-zeros (packed
  ;; CSR of all b rows, see kernels.wat's $rowIndices), or 0 to scan each row for them.
  (func (export "nbForwardChunks")
    (param $x i32) (param $mu i32) (param $theta i32) (param $lte i32) (param $logT i32) (param $rows i32)
    (param $g i32) (param $epsBits i32) (param $table i32) (param $idx i32) (param $exc i32) (param $counts i32)
    (param $csr i32) (param $b i32) (param $chunkRows i32) (param $c0 i32) (param $c1 i32)
    (local $c i32) (local $r0 i32) (local $n i32) (local $off i32)
    (local.set $c (local.get $c0))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_s (local.get $c) (local.get $c1)))
        (local.set $r0 (i32.mul (local.get $c) (local.get $chunkRows)))
        (local.set $n (i32.sub (local.get $b) (local.get $r0)))
        (if (i32.gt_s (local.get $n) (local.get $chunkRows)) (then (local.set $n (local.get $chunkRows))))
        (local.set $off (i32.shl (i32.mul (local.get $r0) (local.get $g)) (i32.const 2)))
        (call $nbForward (i32.add (local.get $x) (local.get $off)) (i32.add (local.get $mu) (local.get $off)) (local.get $theta) (local.get $lte)
          (i32.add (local.get $logT) (local.get $off)) (i32.add (local.get $rows) (i32.shl (local.get $r0) (i32.const 3)))
          (local.get $n) (local.get $g) (f32.reinterpret_i32 (local.get $epsBits)))
        (i32.store (i32.add (local.get $counts) (i32.shl (local.get $c) (i32.const 2)))
          (call $nbCountTerms (i32.add (local.get $x) (local.get $off)) (i32.add (local.get $mu) (local.get $off)) (i32.add (local.get $logT) (local.get $off))
            (f32.reinterpret_i32 (local.get $epsBits)) (local.get $table) (i32.add (local.get $rows) (i32.shl (local.get $r0) (i32.const 3)))
            (i32.add (local.get $idx) (i32.shl (i32.mul (local.get $c) (local.get $g)) (i32.const 2))) (i32.add (local.get $exc) (local.get $off))
            (local.get $n) (local.get $g) (local.get $csr) (local.get $b) (local.get $r0)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunk)))
  )

  ;; Backward over the same chunks: per chunk nbBackward then nbCountGrads, chunk c's part of dθ in
  ;; acc + 8·c·g (f64 [chunks, g], written; the caller sums the chunks in order), its counts outside
  ;; the table as in nbForwardChunks.
  (func (export "nbBackwardChunks")
    (param $x i32) (param $mu i32) (param $theta i32) (param $cv i32) (param $logT i32) (param $dy i32) (param $dmu i32) (param $acc i32)
    (param $g i32) (param $epsBits i32) (param $table i32) (param $idx i32) (param $exc i32) (param $counts i32)
    (param $csr i32) (param $b i32) (param $chunkRows i32) (param $c0 i32) (param $c1 i32)
    (local $c i32) (local $r0 i32) (local $n i32) (local $off i32) (local $accC i32)
    (local.set $c (local.get $c0))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_s (local.get $c) (local.get $c1)))
        (local.set $r0 (i32.mul (local.get $c) (local.get $chunkRows)))
        (local.set $n (i32.sub (local.get $b) (local.get $r0)))
        (if (i32.gt_s (local.get $n) (local.get $chunkRows)) (then (local.set $n (local.get $chunkRows))))
        (local.set $off (i32.shl (i32.mul (local.get $r0) (local.get $g)) (i32.const 2)))
        (local.set $accC (i32.add (local.get $acc) (i32.shl (i32.mul (local.get $c) (local.get $g)) (i32.const 3))))
        (call $nbBackward (i32.add (local.get $x) (local.get $off)) (i32.add (local.get $mu) (local.get $off)) (local.get $theta) (local.get $cv)
          (i32.add (local.get $logT) (local.get $off)) (i32.add (local.get $dy) (i32.shl (local.get $r0) (i32.const 2)))
          (i32.add (local.get $dmu) (local.get $off)) (local.get $accC) (local.get $n) (local.get $g) (f32.reinterpret_i32 (local.get $epsBits)))
        (i32.store (i32.add (local.get $counts) (i32.shl (local.get $c) (i32.const 2)))
          (call $nbCountGrads (i32.add (local.get $x) (local.get $off)) (local.get $table) (i32.add (local.get $dy) (i32.shl (local.get $r0) (i32.const 2)))
            (local.get $accC) (i32.add (local.get $idx) (i32.shl (i32.mul (local.get $c) (local.get $g)) (i32.const 2))) (i32.add (local.get $exc) (local.get $off))
            (local.get $n) (local.get $g) (local.get $csr) (local.get $b) (local.get $r0)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunk)))
  )

  ;; kernels.wat's sparseAffineRows over fixed chunks of $chunkRows rows, chunks $c0 ≤ c < $c1, with
  ;; the non-zeros from the packed CSR at $csr (see kernels.wat's $rowIndices; built by buildCsr when
  ;; the host has none). idx: i32 [chunks, in] scratch, one row's indices per chunk.
  (func (export "sparseAffineCsrChunks")
    (param $x i32) (param $rows i32) (param $in i32) (param $wt i32) (param $bias i32) (param $out i32) (param $n i32) (param $idx i32)
    (param $csr i32) (param $csrCols i32) (param $chunkRows i32) (param $c0 i32) (param $c1 i32)
    (local $r1 i32)
    (local.set $r1 (i32.mul (local.get $c1) (local.get $chunkRows)))
    (if (i32.gt_s (local.get $r1) (local.get $rows)) (then (local.set $r1 (local.get $rows))))
    (call $sparseAffineRows (local.get $x) (local.get $rows) (local.get $in) (local.get $wt) (local.get $bias) (local.get $out) (local.get $n)
      (i32.add (local.get $idx) (i32.shl (i32.mul (local.get $c0) (local.get $in)) (i32.const 2)))
      (local.get $csr) (local.get $csrCols) (i32.mul (local.get $c0) (local.get $chunkRows)) (local.get $r1))
  )

  ;; kernels.wat's sparseAffineGrad's dWᵀ (f32 [in, n]) for the input columns $c0 ≤ c < $c1 only:
  ;; their rows of $dwt zeroed, then each row's non-zeros among those columns (from the packed CSR at
  ;; $csr for the first $csrCols columns, the rest scanned) added in row order as there, so each
  ;; element equals the single-thread kernel's bit for bit. Threads split the columns; $idx: i32 [in]
  ;; scratch, of which this slice uses [c0, c1). db is left to colSums.
  (func (export "sparseAffineGradCsrCols")
    (param $x i32) (param $rows i32) (param $in i32) (param $dy i32) (param $n i32) (param $dwt i32) (param $csr i32) (param $csrCols i32) (param $idx i32)
    (param $c0 i32) (param $c1 i32)
    (local $r i32) (local $xr i32) (local $ind i32) (local $k0 i32) (local $k1 i32) (local $nnz i32) (local $c i32) (local $cEnd i32)
    (local.set $idx (i32.add (local.get $idx) (i32.shl (local.get $c0) (i32.const 2))))
    (local.set $ind (i32.add (local.get $csr) (i32.shl (i32.add (local.get $rows) (i32.const 1)) (i32.const 2))))
    (local.set $cEnd (local.get $c1))
    (if (i32.gt_s (local.get $cEnd) (local.get $csrCols)) (then (local.set $cEnd (local.get $csrCols))))
    (memory.fill (i32.add (local.get $dwt) (i32.shl (i32.mul (local.get $c0) (local.get $n)) (i32.const 2))) (i32.const 0)
      (i32.shl (i32.mul (i32.sub (local.get $c1) (local.get $c0)) (local.get $n)) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $in)) (i32.const 2))))
        (local.set $nnz (i32.const 0))
        ;; the row's listed columns in [c0, min(c1, csrCols)): a contiguous run of its sorted indices
        (if (i32.lt_s (local.get $c0) (local.get $cEnd))
          (then
            (local.set $k0 (i32.load (i32.add (local.get $csr) (i32.shl (local.get $r) (i32.const 2)))))
            (local.set $k1 (i32.load (i32.add (local.get $csr) (i32.shl (i32.add (local.get $r) (i32.const 1)) (i32.const 2)))))
            (local.set $k0 (call $lowerBound (local.get $ind) (local.get $k0) (local.get $k1) (local.get $c0)))
            (local.set $k1 (call $lowerBound (local.get $ind) (local.get $k0) (local.get $k1) (local.get $cEnd)))
            (local.set $nnz (i32.sub (local.get $k1) (local.get $k0)))
            (memory.copy (local.get $idx) (i32.add (local.get $ind) (i32.shl (local.get $k0) (i32.const 2))) (i32.shl (local.get $nnz) (i32.const 2)))))
        ;; columns past the CSR's, scanned
        (local.set $c (local.get $csrCols))
        (if (i32.gt_s (local.get $c0) (local.get $c)) (then (local.set $c (local.get $c0))))
        (if (i32.lt_s (local.get $c) (local.get $c1))
          (then (local.set $nnz (call $appendNonZeros (local.get $xr) (local.get $c) (local.get $c1) (local.get $idx) (local.get $nnz)))))
        (call $sparseGradRow (local.get $xr) (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2)))
          (local.get $idx) (local.get $nnz) (local.get $n) (local.get $dwt) (i32.const 0))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )

  ;; The first position p in [$lo, $hi) of the ascending i32 values at $a with a[p] ≥ $v ($hi if none).
  (func $lowerBound (param $a i32) (param $lo i32) (param $hi i32) (param $v i32) (result i32)
    (local $mid i32)
    (block $done
      (loop $search
        (br_if $done (i32.ge_s (local.get $lo) (local.get $hi)))
        (local.set $mid (i32.shr_u (i32.add (local.get $lo) (local.get $hi)) (i32.const 1)))
        (if (i32.lt_s (i32.load (i32.add (local.get $a) (i32.shl (local.get $mid) (i32.const 2)))) (local.get $v))
          (then (local.set $lo (i32.add (local.get $mid) (i32.const 1))))
          (else (local.set $hi (local.get $mid))))
        (br $search)))
    (local.get $lo)
  )

  ;; ---- special functions in f64: likelihoods/special-f64.ts operation for operation (same order,
  ;; same double constants, Math.log imported), so every value equals the JavaScript one bit for bit.

  ;; lnΓ(x) (special-f64's lgamma64): shift up to x ≥ 10, then Stirling's series.
  (func $lgamma64 (param $x f64) (result f64)
    (local $shift f64) (local $p f64) (local $inv f64) (local $inv2 f64) (local $series f64)
    (if (i32.eqz (f64.gt (local.get $x) (f64.const 0))) (then (return (f64.const nan))))
    (if (f64.eq (local.get $x) (f64.const inf)) (then (return (f64.const inf))))
    (if (f64.lt (local.get $x) (f64.const 10))
      (then
        (local.set $p (f64.const 1))
        (block $done
          (loop $up
            (br_if $done (i32.eqz (f64.lt (local.get $x) (f64.const 10))))
            (local.set $p (f64.mul (local.get $p) (local.get $x)))
            (local.set $x (f64.add (local.get $x) (f64.const 1)))
            (br $up)))
        (local.set $shift (call $log (local.get $p)))))
    (local.set $inv (f64.div (f64.const 1) (local.get $x)))
    (local.set $inv2 (f64.mul (local.get $inv) (local.get $inv)))
    (local.set $series
      (f64.mul (local.get $inv)
        (f64.add (f64.const 0x1.5555555555555p-4) (f64.mul (local.get $inv2)
        (f64.add (f64.const -0x1.6c16c16c16c17p-9) (f64.mul (local.get $inv2)
        (f64.add (f64.const 0x1.a01a01a01a01ap-11) (f64.mul (local.get $inv2)
        (f64.add (f64.const -0x1.3813813813814p-11) (f64.mul (local.get $inv2)
        (f64.add (f64.const 0x1.b951e2b18ff23p-11) (f64.mul (local.get $inv2)
        (f64.add (f64.const -0x1.f6ab0d9993c7dp-10) (f64.mul (local.get $inv2) (f64.const 0x1.a41a41a41a41ap-8)))))))))))))))
    (f64.sub
      (f64.add
        (f64.add
          (f64.sub (f64.mul (f64.sub (local.get $x) (f64.const 0.5)) (call $log (local.get $x))) (local.get $x))
          (f64.const 0x1.d67f1c864beb5p-1))
        (local.get $series))
      (local.get $shift))
  )

  ;; ψ(x) (special-f64's digamma64): recurrence up to x ≥ 10, then the asymptotic series.
  (func $digamma64 (param $x f64) (result f64)
    (local $acc f64) (local $inv f64) (local $inv2 f64) (local $series f64)
    (if (i32.eqz (f64.gt (local.get $x) (f64.const 0))) (then (return (f64.const nan))))
    (if (f64.eq (local.get $x) (f64.const inf)) (then (return (f64.const inf))))
    (block $done
      (loop $up
        (br_if $done (i32.eqz (f64.lt (local.get $x) (f64.const 10))))
        (local.set $acc (f64.sub (local.get $acc) (f64.div (f64.const 1) (local.get $x))))
        (local.set $x (f64.add (local.get $x) (f64.const 1)))
        (br $up)))
    (local.set $inv (f64.div (f64.const 1) (local.get $x)))
    (local.set $inv2 (f64.mul (local.get $inv) (local.get $inv)))
    (local.set $series
      (f64.mul (local.get $inv2)
        (f64.add (f64.const -0x1.5555555555555p-4) (f64.mul (local.get $inv2)
        (f64.add (f64.const 0x1.1111111111111p-7) (f64.mul (local.get $inv2)
        (f64.add (f64.const -0x1.0410410410410p-8) (f64.mul (local.get $inv2)
        (f64.add (f64.const 0x1.1111111111111p-8) (f64.mul (local.get $inv2)
        (f64.add (f64.const -0x1.f07c1f07c1f08p-8) (f64.mul (local.get $inv2)
        (f64.add (f64.const 0x1.5995995995996p-6) (f64.mul (local.get $inv2) (f64.const -0x1.5555555555555p-4)))))))))))))))
    (f64.add
      (f64.sub (f64.add (local.get $acc) (call $log (local.get $x))) (f64.mul (f64.const 0.5) (local.get $inv)))
      (local.get $series))
  )

  ;; Whether x is an integer in (0, 64] and a > 0: the counts lgammaRatio and digammaDiff sum directly.
  (func $smallCount (param $x f64) (param $a f64) (result i32)
    (i32.and
      (i32.and (f64.gt (local.get $x) (f64.const 0)) (f64.le (local.get $x) (f64.const 64)))
      (i32.and (f64.eq (f64.trunc (local.get $x)) (local.get $x)) (f64.gt (local.get $a) (f64.const 0))))
  )

  ;; lnΓ(x + a) − lnΓ(a) (special-f64's lgammaRatio).
  (func $lgammaRatio (param $x f64) (param $a f64) (result f64)
    (local $p f64) (local $s f64) (local $k f64)
    (if (f64.eq (local.get $x) (f64.const 0))
      (then (return (select (f64.const 0) (f64.const nan) (f64.gt (local.get $a) (f64.const 0))))))
    (if (call $smallCount (local.get $x) (local.get $a))
      (then
        (local.set $p (f64.const 1))
        (block $done
          (loop $terms
            (br_if $done (i32.eqz (f64.lt (local.get $k) (local.get $x))))
            (local.set $p (f64.mul (local.get $p) (f64.add (local.get $a) (local.get $k))))
            (if (f64.gt (local.get $p) (f64.const 1e250))
              (then
                (local.set $s (f64.add (local.get $s) (call $log (local.get $p))))
                (local.set $p (f64.const 1))))
            (local.set $k (f64.add (local.get $k) (f64.const 1)))
            (br $terms)))
        (return (f64.add (local.get $s) (call $log (local.get $p))))))
    (f64.sub (call $lgamma64 (f64.add (local.get $a) (local.get $x))) (call $lgamma64 (local.get $a)))
  )

  ;; ψ(x + a) − ψ(a) (special-f64's digammaDiff).
  (func $digammaDiff (param $x f64) (param $a f64) (result f64)
    (local $s f64) (local $k f64)
    (if (f64.eq (local.get $x) (f64.const 0))
      (then (return (select (f64.const 0) (f64.const nan) (f64.gt (local.get $a) (f64.const 0))))))
    (if (call $smallCount (local.get $x) (local.get $a))
      (then
        (block $done
          (loop $terms
            (br_if $done (i32.eqz (f64.lt (local.get $k) (local.get $x))))
            (local.set $s (f64.add (local.get $s) (f64.div (f64.const 1) (f64.add (local.get $a) (local.get $k)))))
            (local.set $k (f64.add (local.get $k) (f64.const 1)))
            (br $terms)))
        (return (local.get $s))))
    (f64.sub (call $digamma64 (f64.add (local.get $x) (local.get $a))) (call $digamma64 (local.get $a)))
  )

  ;; ln x! (special-f64's logFactorial): table[x] (f64 [4096] at $table) for integers below 4096, else lnΓ(x + 1).
  (func $logFactorial (param $x f64) (param $table i32) (result f64)
    (if (i32.and (i32.and (f64.ge (local.get $x) (f64.const 0)) (f64.lt (local.get $x) (f64.const 4096)))
                 (f64.eq (f64.trunc (local.get $x)) (local.get $x)))
      (then (return (f64.load (i32.add (local.get $table) (i32.shl (i32.trunc_f64_u (local.get $x)) (i32.const 3)))))))
    (call $lgamma64 (f64.add (local.get $x) (f64.const 1)))
  )

  ;; The counts nbForwardChunks left out (listed per chunk at $exc, their number at $counts), chunks
  ;; $c0 ≤ c < $c1: rows[r] (f64) += lgammaRatio(x, θ_j) − ln x! in listed order, as nb-fused's
  ;; addForwardExceptions (a chunk's rows are its own, so the chunks may run on any threads).
  (func (export "nbForwardExceptions")
    (param $x i32) (param $theta i32) (param $rows i32) (param $exc i32) (param $counts i32) (param $lf i32)
    (param $g i32) (param $chunkRows i32) (param $c0 i32) (param $c1 i32)
    (local $c i32) (local $base i32) (local $t i32) (local $n i32) (local $e i32) (local $r i32) (local $xv f64) (local $at i32)
    (local.set $c (local.get $c0))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_s (local.get $c) (local.get $c1)))
        (local.set $base (i32.mul (i32.mul (local.get $c) (local.get $chunkRows)) (local.get $g)))
        (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $t (i32.const 0))
        (block $chunkDone
          (loop $each
            (br_if $chunkDone (i32.ge_s (local.get $t) (local.get $n)))
            (local.set $e (i32.add (local.get $base)
              (i32.load (i32.add (local.get $exc) (i32.shl (i32.add (local.get $base) (local.get $t)) (i32.const 2))))))
            (local.set $r (i32.div_u (local.get $e) (local.get $g)))
            (local.set $xv (f64.promote_f32 (f32.load (i32.add (local.get $x) (i32.shl (local.get $e) (i32.const 2))))))
            (local.set $at (i32.add (local.get $rows) (i32.shl (local.get $r) (i32.const 3))))
            (f64.store (local.get $at)
              (f64.add (f64.load (local.get $at))
                (f64.sub
                  (call $lgammaRatio (local.get $xv)
                    (f64.promote_f32 (f32.load (i32.add (local.get $theta) (i32.shl (i32.sub (local.get $e) (i32.mul (local.get $r) (local.get $g))) (i32.const 2))))))
                  (call $logFactorial (local.get $xv) (local.get $lf)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $each)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunk)))
  )

  ;; For the counts nbBackwardChunks left out, chunks $c0 ≤ c < $c1: out[k] (f64, at the exception's
  ;; position k in $exc) = dy[r] · (ψ(x + θ_j) − ψ(θ_j)), the terms nb-fused's thetaGradSum adds to dθ.
  (func (export "nbBackwardExceptions")
    (param $x i32) (param $theta i32) (param $dy i32) (param $exc i32) (param $counts i32) (param $out i32)
    (param $g i32) (param $chunkRows i32) (param $c0 i32) (param $c1 i32)
    (local $c i32) (local $base i32) (local $t i32) (local $n i32) (local $e i32) (local $r i32)
    (local.set $c (local.get $c0))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_s (local.get $c) (local.get $c1)))
        (local.set $base (i32.mul (i32.mul (local.get $c) (local.get $chunkRows)) (local.get $g)))
        (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $t (i32.const 0))
        (block $chunkDone
          (loop $each
            (br_if $chunkDone (i32.ge_s (local.get $t) (local.get $n)))
            (local.set $e (i32.add (local.get $base)
              (i32.load (i32.add (local.get $exc) (i32.shl (i32.add (local.get $base) (local.get $t)) (i32.const 2))))))
            (local.set $r (i32.div_u (local.get $e) (local.get $g)))
            (f64.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $base) (local.get $t)) (i32.const 3)))
              (f64.mul
                (f64.promote_f32 (f32.load (i32.add (local.get $dy) (i32.shl (local.get $r) (i32.const 2)))))
                (call $digammaDiff
                  (f64.promote_f32 (f32.load (i32.add (local.get $x) (i32.shl (local.get $e) (i32.const 2)))))
                  (f64.promote_f32 (f32.load (i32.add (local.get $theta) (i32.shl (i32.sub (local.get $e) (i32.mul (local.get $r) (local.get $g))) (i32.const 2))))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $each)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunk)))
  )

  ;; Per-gene table [j, x] = Σ_{k<x} ln(θ_j + k) − minus[x] for x ≤ 16 (f64 [g, 17] at $out; minus f64
  ;; [17]), genes $j0 ≤ j < $j1: nb-fused's lgammaRatioTable (ln(θ + k − 1) summed for k = 1 … 16).
  (func (export "lgammaRatioTable") (param $theta i32) (param $out i32) (param $minus i32) (param $j0 i32) (param $j1 i32)
    (local $j i32) (local $k i32) (local $th f64) (local $acc f64) (local $row i32)
    (local.set $j (local.get $j0))
    (block $done
      (loop $gene
        (br_if $done (i32.ge_s (local.get $j) (local.get $j1)))
        (local.set $th (f64.promote_f32 (f32.load (i32.add (local.get $theta) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $acc (select (f64.const 0) (f64.const nan) (f64.gt (local.get $th) (f64.const 0))))
        (local.set $row (i32.add (local.get $out) (i32.mul (local.get $j) (i32.const 136))))
        (f64.store (local.get $row) (f64.const 0))
        (local.set $k (i32.const 1))
        (block $rowDone
          (loop $count
            (br_if $rowDone (i32.gt_s (local.get $k) (i32.const 16)))
            (local.set $acc (f64.add (local.get $acc)
              (call $log (f64.sub (f64.add (local.get $th) (f64.convert_i32_s (local.get $k))) (f64.const 1)))))
            (f64.store (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 3)))
              (f64.sub (local.get $acc) (f64.load (i32.add (local.get $minus) (i32.shl (local.get $k) (i32.const 3))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $count)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $gene)))
  )
)
