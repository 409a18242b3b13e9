;; invae bench: exact k-nearest-neighbour search and per-cluster distance sums (silhouettes) on a shared memory (imported as env.memory), run
;; by every thread of a @invae/common WasmThreadPool. Compiled by packages/bench/scripts/build-wasm.mjs
;; into src/neighbors/knn-binary.ts (checked by test/knn-wasm.test.ts).
;;
;; Layout (every pointer a byte offset; `knn-wasm.ts` writes it): the cells are permuted so that
;; blocks of B = 8·bp consecutive cells are spatially compact. Columns are stored in panels of 8
;; cells: [‖y‖² × 8][y₀ × 8]…[y_(d−1) × 8] (centred values, f32; padding cells have ‖y‖² = +∞).
;; Rows are stored as −2·x (d values each), with ‖x‖² apart. For row r and column j the kernel forms
;; s = ‖y_j‖² − 2·x_r·y_j (= d² − ‖x_r‖²) by 4 rows × 8 columns register blocks and admits j into
;; r's max-heap of the h smallest (s, original index) when it beats the heap's top (tau[r]).
;; Whole column blocks are skipped when the triangle inequality proves that none of their cells can
;; enter the heap: ‖x_r − y‖ ≥ ‖x_r − c_J‖ − rad_J (c_J, rad_J: the block's centre and radius).
;;
;; Determinism: each row's heap is filled by one thread (row blocks are taken whole from a shared
;; counter) in a fixed column order, and it holds exactly the h smallest (s, index) pairs it saw,
;; so the thread count never changes a result.
(module
  (import "env" "memory" (memory 1 65536 shared))

  (global $n (mut i32) (i32.const 0))
  (global $d (mut i32) (i32.const 0))
  (global $panels (mut i32) (i32.const 0))
  (global $q (mut i32) (i32.const 0))
  (global $qn (mut i32) (i32.const 0))
  (global $hval (mut i32) (i32.const 0))
  (global $hidx (mut i32) (i32.const 0))
  (global $hcnt (mut i32) (i32.const 0))
  (global $h (mut i32) (i32.const 0))
  (global $perm (mut i32) (i32.const 0))
  (global $tau (mut i32) (i32.const 0))
  (global $pstride (mut i32) (i32.const 0))

  ;; (va, ia) > (vb, ib) in the heap order: by value, then by index.
  (func $greater (param $va f32) (param $ia i32) (param $vb f32) (param $ib i32) (result i32)
    (i32.or (f32.gt (local.get $va) (local.get $vb))
      (i32.and (f32.eq (local.get $va) (local.get $vb)) (i32.gt_s (local.get $ia) (local.get $ib)))))

  ;; Places (v, i) in the max-heap vb/ib of `size` entries whose root is free, sifting down.
  (func $siftDown (param $vb i32) (param $ib i32) (param $size i32) (param $v f32) (param $i i32)
    (local $pos i32) (local $c i32) (local $cv f32) (local $ci i32)
    (block $done
      (loop $down
        (local.set $c (i32.add (i32.shl (local.get $pos) (i32.const 1)) (i32.const 1)))
        (br_if $done (i32.ge_u (local.get $c) (local.get $size)))
        (local.set $cv (f32.load (i32.add (local.get $vb) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $ci (i32.load (i32.add (local.get $ib) (i32.shl (local.get $c) (i32.const 2)))))
        (if (i32.lt_u (i32.add (local.get $c) (i32.const 1)) (local.get $size))
          (then
            (if (call $greater
                  (f32.load offset=4 (i32.add (local.get $vb) (i32.shl (local.get $c) (i32.const 2))))
                  (i32.load offset=4 (i32.add (local.get $ib) (i32.shl (local.get $c) (i32.const 2))))
                  (local.get $cv) (local.get $ci))
              (then
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (local.set $cv (f32.load (i32.add (local.get $vb) (i32.shl (local.get $c) (i32.const 2)))))
                (local.set $ci (i32.load (i32.add (local.get $ib) (i32.shl (local.get $c) (i32.const 2)))))))))
        (br_if $done (i32.eqz (call $greater (local.get $cv) (local.get $ci) (local.get $v) (local.get $i))))
        (f32.store (i32.add (local.get $vb) (i32.shl (local.get $pos) (i32.const 2))) (local.get $cv))
        (i32.store (i32.add (local.get $ib) (i32.shl (local.get $pos) (i32.const 2))) (local.get $ci))
        (local.set $pos (local.get $c))
        (br $down)))
    (f32.store (i32.add (local.get $vb) (i32.shl (local.get $pos) (i32.const 2))) (local.get $v))
    (i32.store (i32.add (local.get $ib) (i32.shl (local.get $pos) (i32.const 2))) (local.get $i)))

  ;; Offers column `col` (permuted index) with value s to row r's heap.
  (func $consider (param $r i32) (param $s f32) (param $col i32)
    (local $j i32) (local $cnt i32) (local $vb i32) (local $ib i32) (local $pos i32) (local $p i32)
    (if (i32.ge_u (local.get $col) (global.get $n)) (then (return)))
    (if (i32.eq (local.get $col) (local.get $r)) (then (return)))
    (if (i32.ge_u (local.get $r) (global.get $n)) (then (return)))
    (local.set $j (i32.load (i32.add (global.get $perm) (i32.shl (local.get $col) (i32.const 2)))))
    (local.set $vb (i32.add (global.get $hval) (i32.shl (i32.mul (local.get $r) (global.get $h)) (i32.const 2))))
    (local.set $ib (i32.add (global.get $hidx) (i32.shl (i32.mul (local.get $r) (global.get $h)) (i32.const 2))))
    (local.set $cnt (i32.load (i32.add (global.get $hcnt) (i32.shl (local.get $r) (i32.const 2)))))
    (if (i32.lt_u (local.get $cnt) (global.get $h))
      (then
        ;; Not full: sift up from the end.
        (local.set $pos (local.get $cnt))
        (block $done
          (loop $up
            (br_if $done (i32.eqz (local.get $pos)))
            (local.set $p (i32.shr_u (i32.sub (local.get $pos) (i32.const 1)) (i32.const 1)))
            (br_if $done (i32.eqz (call $greater (local.get $s) (local.get $j)
              (f32.load (i32.add (local.get $vb) (i32.shl (local.get $p) (i32.const 2))))
              (i32.load (i32.add (local.get $ib) (i32.shl (local.get $p) (i32.const 2)))))))
            (f32.store (i32.add (local.get $vb) (i32.shl (local.get $pos) (i32.const 2)))
              (f32.load (i32.add (local.get $vb) (i32.shl (local.get $p) (i32.const 2)))))
            (i32.store (i32.add (local.get $ib) (i32.shl (local.get $pos) (i32.const 2)))
              (i32.load (i32.add (local.get $ib) (i32.shl (local.get $p) (i32.const 2)))))
            (local.set $pos (local.get $p))
            (br $up)))
        (f32.store (i32.add (local.get $vb) (i32.shl (local.get $pos) (i32.const 2))) (local.get $s))
        (i32.store (i32.add (local.get $ib) (i32.shl (local.get $pos) (i32.const 2))) (local.get $j))
        (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))
        (i32.store (i32.add (global.get $hcnt) (i32.shl (local.get $r) (i32.const 2))) (local.get $cnt))
        (if (i32.eq (local.get $cnt) (global.get $h))
          (then (f32.store (i32.add (global.get $tau) (i32.shl (local.get $r) (i32.const 2))) (f32.load (local.get $vb)))))
        (return)))
    ;; Full: replace the top when (s, j) is smaller.
    (if (i32.eqz (call $greater (f32.load (local.get $vb)) (i32.load (local.get $ib)) (local.get $s) (local.get $j)))
      (then (return)))
    (call $siftDown (local.get $vb) (local.get $ib) (global.get $h) (local.get $s) (local.get $j))
    (f32.store (i32.add (global.get $tau) (i32.shl (local.get $r) (i32.const 2))) (f32.load (local.get $vb))))

  ;; Rows r0 … r0+3 against the column panels [pa, pb).
  (func $tile (param $r0 i32) (param $pa i32) (param $pb i32)
    (local $pp i32) (local $pend i32) (local $c i32) (local $cend i32) (local $dstride i32) (local $col i32) (local $tp i32) (local $bits i32)
    (local $na v128) (local $nb v128) (local $ya v128) (local $yb v128) (local $s v128) (local $t v128)
    (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32) (local $a0 v128) (local $b0 v128) (local $a1 v128) (local $b1 v128) (local $a2 v128) (local $b2 v128) (local $a3 v128) (local $b3 v128)
    (local.set $dstride (i32.shl (global.get $d) (i32.const 2)))
    (local.set $q0 (i32.add (global.get $q) (i32.mul (i32.add (local.get $r0) (i32.const 0)) (local.get $dstride))))
    (local.set $q1 (i32.add (global.get $q) (i32.mul (i32.add (local.get $r0) (i32.const 1)) (local.get $dstride))))
    (local.set $q2 (i32.add (global.get $q) (i32.mul (i32.add (local.get $r0) (i32.const 2)) (local.get $dstride))))
    (local.set $q3 (i32.add (global.get $q) (i32.mul (i32.add (local.get $r0) (i32.const 3)) (local.get $dstride))))
    (local.set $tp (i32.add (global.get $tau) (i32.shl (local.get $r0) (i32.const 2))))
    (local.set $cend (local.get $dstride))
    (local.set $pp (i32.add (global.get $panels) (i32.mul (local.get $pa) (global.get $pstride))))
    (local.set $pend (i32.add (global.get $panels) (i32.mul (local.get $pb) (global.get $pstride))))
    (local.set $col (i32.shl (local.get $pa) (i32.const 3)))
    (block $pdone
      (loop $panel
        (br_if $pdone (i32.ge_u (local.get $pp) (local.get $pend)))
        (local.set $na (v128.load (local.get $pp)))
        (local.set $nb (v128.load offset=16 (local.get $pp)))
        (local.set $a0 (local.get $na)) (local.set $b0 (local.get $nb))
        (local.set $a1 (local.get $na)) (local.set $b1 (local.get $nb))
        (local.set $a2 (local.get $na)) (local.set $b2 (local.get $nb))
        (local.set $a3 (local.get $na)) (local.set $b3 (local.get $nb))
        (local.set $c (i32.const 0))
        (local.set $ya (v128.load offset=32 (local.get $pp)))
        (local.set $yb (v128.load offset=48 (local.get $pp)))
        (loop $dims
            (local.set $s (v128.load32_splat (i32.add (local.get $q0) (local.get $c))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $ya))))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s) (local.get $yb))))
            (local.set $s (v128.load32_splat (i32.add (local.get $q1) (local.get $c))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $ya))))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s) (local.get $yb))))
            (local.set $s (v128.load32_splat (i32.add (local.get $q2) (local.get $c))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $ya))))
            (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $s) (local.get $yb))))
            (local.set $s (v128.load32_splat (i32.add (local.get $q3) (local.get $c))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $ya))))
            (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $s) (local.get $yb))))
            (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (local.set $ya (v128.load offset=32 (local.get $pp)))
            (local.set $yb (v128.load offset=48 (local.get $pp)))
            (br_if $dims (i32.lt_u (local.get $c) (local.get $cend))))
        (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
        (local.set $t (v128.load32_splat offset=0 (local.get $tp)))
        ;; Lanes at or below the row's threshold (one bit each), offered to its heap one by one.
        (local.set $bits (i32.or (i32x4.bitmask (f32x4.le (local.get $a0) (local.get $t)))
          (i32.shl (i32x4.bitmask (f32x4.le (local.get $b0) (local.get $t))) (i32.const 4))))
        (if (local.get $bits)
          (then
                (if (i32.and (local.get $bits) (i32.const 1)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 0 (local.get $a0)) (i32.add (local.get $col) (i32.const 0)))))
                (if (i32.and (local.get $bits) (i32.const 2)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 1 (local.get $a0)) (i32.add (local.get $col) (i32.const 1)))))
                (if (i32.and (local.get $bits) (i32.const 4)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 2 (local.get $a0)) (i32.add (local.get $col) (i32.const 2)))))
                (if (i32.and (local.get $bits) (i32.const 8)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 3 (local.get $a0)) (i32.add (local.get $col) (i32.const 3)))))
                (if (i32.and (local.get $bits) (i32.const 16)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 0 (local.get $b0)) (i32.add (local.get $col) (i32.const 4)))))
                (if (i32.and (local.get $bits) (i32.const 32)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 1 (local.get $b0)) (i32.add (local.get $col) (i32.const 5)))))
                (if (i32.and (local.get $bits) (i32.const 64)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 2 (local.get $b0)) (i32.add (local.get $col) (i32.const 6)))))
                (if (i32.and (local.get $bits) (i32.const 128)) (then (call $consider (i32.add (local.get $r0) (i32.const 0)) (f32x4.extract_lane 3 (local.get $b0)) (i32.add (local.get $col) (i32.const 7)))))))
        (local.set $t (v128.load32_splat offset=4 (local.get $tp)))
        ;; Lanes at or below the row's threshold (one bit each), offered to its heap one by one.
        (local.set $bits (i32.or (i32x4.bitmask (f32x4.le (local.get $a1) (local.get $t)))
          (i32.shl (i32x4.bitmask (f32x4.le (local.get $b1) (local.get $t))) (i32.const 4))))
        (if (local.get $bits)
          (then
                (if (i32.and (local.get $bits) (i32.const 1)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 0 (local.get $a1)) (i32.add (local.get $col) (i32.const 0)))))
                (if (i32.and (local.get $bits) (i32.const 2)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 1 (local.get $a1)) (i32.add (local.get $col) (i32.const 1)))))
                (if (i32.and (local.get $bits) (i32.const 4)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 2 (local.get $a1)) (i32.add (local.get $col) (i32.const 2)))))
                (if (i32.and (local.get $bits) (i32.const 8)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 3 (local.get $a1)) (i32.add (local.get $col) (i32.const 3)))))
                (if (i32.and (local.get $bits) (i32.const 16)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 0 (local.get $b1)) (i32.add (local.get $col) (i32.const 4)))))
                (if (i32.and (local.get $bits) (i32.const 32)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 1 (local.get $b1)) (i32.add (local.get $col) (i32.const 5)))))
                (if (i32.and (local.get $bits) (i32.const 64)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 2 (local.get $b1)) (i32.add (local.get $col) (i32.const 6)))))
                (if (i32.and (local.get $bits) (i32.const 128)) (then (call $consider (i32.add (local.get $r0) (i32.const 1)) (f32x4.extract_lane 3 (local.get $b1)) (i32.add (local.get $col) (i32.const 7)))))))
        (local.set $t (v128.load32_splat offset=8 (local.get $tp)))
        ;; Lanes at or below the row's threshold (one bit each), offered to its heap one by one.
        (local.set $bits (i32.or (i32x4.bitmask (f32x4.le (local.get $a2) (local.get $t)))
          (i32.shl (i32x4.bitmask (f32x4.le (local.get $b2) (local.get $t))) (i32.const 4))))
        (if (local.get $bits)
          (then
                (if (i32.and (local.get $bits) (i32.const 1)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 0 (local.get $a2)) (i32.add (local.get $col) (i32.const 0)))))
                (if (i32.and (local.get $bits) (i32.const 2)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 1 (local.get $a2)) (i32.add (local.get $col) (i32.const 1)))))
                (if (i32.and (local.get $bits) (i32.const 4)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 2 (local.get $a2)) (i32.add (local.get $col) (i32.const 2)))))
                (if (i32.and (local.get $bits) (i32.const 8)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 3 (local.get $a2)) (i32.add (local.get $col) (i32.const 3)))))
                (if (i32.and (local.get $bits) (i32.const 16)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 0 (local.get $b2)) (i32.add (local.get $col) (i32.const 4)))))
                (if (i32.and (local.get $bits) (i32.const 32)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 1 (local.get $b2)) (i32.add (local.get $col) (i32.const 5)))))
                (if (i32.and (local.get $bits) (i32.const 64)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 2 (local.get $b2)) (i32.add (local.get $col) (i32.const 6)))))
                (if (i32.and (local.get $bits) (i32.const 128)) (then (call $consider (i32.add (local.get $r0) (i32.const 2)) (f32x4.extract_lane 3 (local.get $b2)) (i32.add (local.get $col) (i32.const 7)))))))
        (local.set $t (v128.load32_splat offset=12 (local.get $tp)))
        ;; Lanes at or below the row's threshold (one bit each), offered to its heap one by one.
        (local.set $bits (i32.or (i32x4.bitmask (f32x4.le (local.get $a3) (local.get $t)))
          (i32.shl (i32x4.bitmask (f32x4.le (local.get $b3) (local.get $t))) (i32.const 4))))
        (if (local.get $bits)
          (then
                (if (i32.and (local.get $bits) (i32.const 1)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 0 (local.get $a3)) (i32.add (local.get $col) (i32.const 0)))))
                (if (i32.and (local.get $bits) (i32.const 2)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 1 (local.get $a3)) (i32.add (local.get $col) (i32.const 1)))))
                (if (i32.and (local.get $bits) (i32.const 4)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 2 (local.get $a3)) (i32.add (local.get $col) (i32.const 2)))))
                (if (i32.and (local.get $bits) (i32.const 8)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 3 (local.get $a3)) (i32.add (local.get $col) (i32.const 3)))))
                (if (i32.and (local.get $bits) (i32.const 16)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 0 (local.get $b3)) (i32.add (local.get $col) (i32.const 4)))))
                (if (i32.and (local.get $bits) (i32.const 32)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 1 (local.get $b3)) (i32.add (local.get $col) (i32.const 5)))))
                (if (i32.and (local.get $bits) (i32.const 64)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 2 (local.get $b3)) (i32.add (local.get $col) (i32.const 6)))))
                (if (i32.and (local.get $bits) (i32.const 128)) (then (call $consider (i32.add (local.get $r0) (i32.const 3)) (f32x4.extract_lane 3 (local.get $b3)) (i32.add (local.get $col) (i32.const 7)))))))
        (local.set $col (i32.add (local.get $col) (i32.const 8)))
        (br $panel))))

  ;; Lower bound test: true when rows r0 … r0+3 can all skip block J (centre at cen, radius rad).
  (func $skipRows (param $r0 i32) (param $cen i32) (param $rad f32) (param $epsD f32) (param $epsD2 f32) (result i32)
    (local $k i32) (local $c i32) (local $qp i32) (local $s f32) (local $v f32) (local $lb f32) (local $r i32)
    (block $no
      (loop $rows
        (local.set $r (i32.add (local.get $r0) (local.get $k)))
        (local.set $qp (i32.add (global.get $q) (i32.mul (local.get $r) (i32.shl (global.get $d) (i32.const 2)))))
        (local.set $s (f32.const 0))
        (local.set $c (i32.const 0))
        (loop $dims
          (local.set $v (f32.sub (f32.mul (f32.const -0.5) (f32.load (i32.add (local.get $qp) (i32.shl (local.get $c) (i32.const 2)))))
            (f32.load (i32.add (local.get $cen) (i32.shl (local.get $c) (i32.const 2))))))
          (local.set $s (f32.add (local.get $s) (f32.mul (local.get $v) (local.get $v))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $dims (i32.lt_u (local.get $c) (global.get $d))))
        (local.set $lb (f32.sub (f32.sub (f32.sqrt (local.get $s)) (local.get $rad)) (local.get $epsD)))
        ;; This row may need the block unless lb > 0 and lb² > d²-threshold + epsD2.
        (br_if $no (f32.le (local.get $lb) (f32.const 0)))
        (br_if $no (i32.eqz (f32.gt (f32.mul (local.get $lb) (local.get $lb))
          (f32.add (f32.add (f32.load (i32.add (global.get $tau) (i32.shl (local.get $r) (i32.const 2))))
            (f32.load (i32.add (global.get $qn) (i32.shl (local.get $r) (i32.const 2))))) (local.get $epsD2)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $k) (i32.const 4))))
      (return (i32.const 1)))
    (i32.const 0))

  ;; Sorts row r's heap ascending by (value, index) (heapsort in place).
  (func $sortRow (param $r i32)
    (local $vb i32) (local $ib i32) (local $end i32) (local $tv f32) (local $ti i32)
    (local.set $vb (i32.add (global.get $hval) (i32.shl (i32.mul (local.get $r) (global.get $h)) (i32.const 2))))
    (local.set $ib (i32.add (global.get $hidx) (i32.shl (i32.mul (local.get $r) (global.get $h)) (i32.const 2))))
    (local.set $end (i32.sub (i32.load (i32.add (global.get $hcnt) (i32.shl (local.get $r) (i32.const 2)))) (i32.const 1)))
    (block $done
      (loop $pop
        (br_if $done (i32.le_s (local.get $end) (i32.const 0)))
        (local.set $tv (f32.load (local.get $vb)))
        (local.set $ti (i32.load (local.get $ib)))
        (call $siftDown (local.get $vb) (local.get $ib) (local.get $end)
          (f32.load (i32.add (local.get $vb) (i32.shl (local.get $end) (i32.const 2))))
          (i32.load (i32.add (local.get $ib) (i32.shl (local.get $end) (i32.const 2)))))
        (f32.store (i32.add (local.get $vb) (i32.shl (local.get $end) (i32.const 2))) (local.get $tv))
        (i32.store (i32.add (local.get $ib) (i32.shl (local.get $end) (i32.const 2))) (local.get $ti))
        (local.set $end (i32.sub (local.get $end) (i32.const 1)))
        (br $pop))))

  ;; The search. `params` points at i32 words: n, d, panels, q, qn, hval, hidx, hcnt, h, perm, tau,
  ;; cen, rad, order, key, nBlocks, bp, counter, epsD (f32), epsD2 (f32); the word after the counter
  ;; counts the row-group × column-block tiles computed. Each thread takes row
  ;; blocks I from the shared counter until none is left; for each it visits the column blocks in
  ;; order[I] (ascending key = ‖c_I − c_J‖ − rad_J) until the block bound proves the rest useless,
  ;; skipping per row group the blocks the row bound rules out; then sorts the rows' heaps.
  ;; `lo`/`hi` (the pool's slice) only make every thread take part.
  (func (export "knnBlocks") (param $lo i32) (param $hi i32) (param $params i32)
    (local $I i32) (local $t i32) (local $J i32) (local $nBlocks i32) (local $bp i32) (local $B i32)
    (local $rowStart i32) (local $rowEnd i32) (local $r0 i32) (local $pa i32) (local $pb i32) (local $nPanels i32)
    (local $cen i32) (local $rad i32) (local $order i32) (local $key i32) (local $counter i32)
    (local $epsD f32) (local $epsD2 f32) (local $radI f32) (local $lb f32) (local $maxT f32) (local $r i32) (local $v f32)
    (global.set $n (i32.load (local.get $params)))
    (global.set $d (i32.load offset=4 (local.get $params)))
    (global.set $panels (i32.load offset=8 (local.get $params)))
    (global.set $q (i32.load offset=12 (local.get $params)))
    (global.set $qn (i32.load offset=16 (local.get $params)))
    (global.set $hval (i32.load offset=20 (local.get $params)))
    (global.set $hidx (i32.load offset=24 (local.get $params)))
    (global.set $hcnt (i32.load offset=28 (local.get $params)))
    (global.set $h (i32.load offset=32 (local.get $params)))
    (global.set $perm (i32.load offset=36 (local.get $params)))
    (global.set $tau (i32.load offset=40 (local.get $params)))
    (local.set $cen (i32.load offset=44 (local.get $params)))
    (local.set $rad (i32.load offset=48 (local.get $params)))
    (local.set $order (i32.load offset=52 (local.get $params)))
    (local.set $key (i32.load offset=56 (local.get $params)))
    (local.set $nBlocks (i32.load offset=60 (local.get $params)))
    (local.set $bp (i32.load offset=64 (local.get $params)))
    (local.set $counter (i32.load offset=68 (local.get $params)))
    (local.set $epsD (f32.load offset=72 (local.get $params)))
    (local.set $epsD2 (f32.load offset=76 (local.get $params)))
    (global.set $pstride (i32.shl (i32.add (global.get $d) (i32.const 1)) (i32.const 5)))
    (local.set $B (i32.shl (local.get $bp) (i32.const 3)))
    (local.set $nPanels (i32.shr_u (i32.add (global.get $n) (i32.const 7)) (i32.const 3)))
    (block $all
      (loop $blocks
        (local.set $I (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
        (br_if $all (i32.ge_u (local.get $I) (local.get $nBlocks)))
        (local.set $rowStart (i32.mul (local.get $I) (local.get $B)))
        (local.set $rowEnd (i32.add (local.get $rowStart) (local.get $B)))
        (if (i32.gt_u (local.get $rowEnd) (global.get $n))
          (then (local.set $rowEnd (i32.and (i32.add (global.get $n) (i32.const 3)) (i32.const -4)))))
        (local.set $radI (f32.load (i32.add (local.get $rad) (i32.shl (local.get $I) (i32.const 2)))))
        (local.set $t (i32.const 0))
        (block $cols
          (loop $colBlocks
            (br_if $cols (i32.ge_u (local.get $t) (local.get $nBlocks)))
            (local.set $J (i32.load (i32.add (local.get $order) (i32.shl (i32.add (i32.mul (local.get $I) (local.get $nBlocks)) (local.get $t)) (i32.const 2)))))
            ;; Block bound: every row of I is within radI of c_I, so ‖x − y‖ ≥ key − radI.
            (local.set $lb (f32.sub (f32.sub (f32.load (i32.add (local.get $key) (i32.shl (i32.add (i32.mul (local.get $I) (local.get $nBlocks)) (local.get $t)) (i32.const 2))))
              (local.get $radI)) (local.get $epsD)))
            (if (f32.gt (local.get $lb) (f32.const 0))
              (then
                (local.set $maxT (f32.const -inf))
                (local.set $r (local.get $rowStart))
                (loop $mx
                  (local.set $v (f32.add (f32.load (i32.add (global.get $tau) (i32.shl (local.get $r) (i32.const 2))))
                    (f32.load (i32.add (global.get $qn) (i32.shl (local.get $r) (i32.const 2))))))
                  (local.set $maxT (f32.max (local.get $maxT) (local.get $v)))
                  (local.set $r (i32.add (local.get $r) (i32.const 1)))
                  (br_if $mx (i32.lt_u (local.get $r) (local.get $rowEnd))))
                (br_if $cols (f32.gt (f32.mul (local.get $lb) (local.get $lb)) (f32.add (local.get $maxT) (local.get $epsD2))))))
            (local.set $pa (i32.mul (local.get $J) (local.get $bp)))
            (local.set $pb (i32.add (local.get $pa) (local.get $bp)))
            (if (i32.gt_u (local.get $pb) (local.get $nPanels)) (then (local.set $pb (local.get $nPanels))))
            (local.set $cen (i32.add (i32.load offset=44 (local.get $params)) (i32.mul (local.get $J) (i32.shl (global.get $d) (i32.const 2)))))
            (local.set $r0 (local.get $rowStart))
            (block $gdone
              (loop $groups
                (br_if $gdone (i32.ge_u (local.get $r0) (local.get $rowEnd)))
                (if (i32.eqz (call $skipRows (local.get $r0) (local.get $cen)
                      (f32.load (i32.add (local.get $rad) (i32.shl (local.get $J) (i32.const 2)))) (local.get $epsD) (local.get $epsD2)))
                  (then
                    (call $tile (local.get $r0) (local.get $pa) (local.get $pb))
                    (drop (i32.atomic.rmw.add (i32.add (local.get $counter) (i32.const 4)) (i32.const 1)))))
                (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
                (br $groups)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $colBlocks)))
        (local.set $r (local.get $rowStart))
        (block $sdone
          (loop $sort
            (br_if $sdone (i32.ge_u (local.get $r) (local.get $rowEnd)))
            (if (i32.lt_u (local.get $r) (global.get $n)) (then (call $sortRow (local.get $r))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $sort)))
        (br $blocks))))

  (global $sQ (mut i32) (i32.const 0))
  (global $sSelf (mut i32) (i32.const 0))
  (global $sSums (mut i32) (i32.const 0))
  (global $sL (mut i32) (i32.const 0))

  ;; Rows r0 … r0+3 (of the row list) against the column panels [pa, pb): each row's distance
  ;; to every column cell added to its sum for that cell's cluster (float32 within at most 64
  ;; panels of one cluster, then float64).
  (func $sumTile (param $r0 i32) (param $pa i32) (param $pb i32) (param $panels i32) (param $codes i32) (param $mask i32) (param $qn i32) (param $cos i32)
    (local $p i32) (local $pp i32) (local $c i32) (local $cend i32) (local $dstride i32) (local $qnp i32) (local $code i32) (local $run i32) (local $sp i32)
    (local $na v128) (local $nb v128) (local $ya v128) (local $yb v128) (local $s v128) (local $t v128) (local $ma v128) (local $mb v128)
    (local $zero v128) (local $one v128) (local $two v128) (local $half v128) (local $lane0 v128) (local $lane4 v128)
    (local $a0 v128) (local $b0 v128) (local $run0 v128) (local $q0 i32) (local $self0 i32) (local $a1 v128) (local $b1 v128) (local $run1 v128) (local $q1 i32) (local $self1 i32) (local $a2 v128) (local $b2 v128) (local $run2 v128) (local $q2 i32) (local $self2 i32) (local $a3 v128) (local $b3 v128) (local $run3 v128) (local $q3 i32) (local $self3 i32)
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $two (f32x4.splat (f32.const 2)))
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $lane0 (v128.const i32x4 0 1 2 3))
    (local.set $lane4 (v128.const i32x4 4 5 6 7))
    (local.set $dstride (i32.shl (global.get $d) (i32.const 2)))
    (local.set $cend (local.get $dstride))
        (local.set $q0 (i32.add (global.get $sQ) (i32.mul (i32.add (local.get $r0) (i32.const 0)) (local.get $dstride))))
        (local.set $self0 (i32.load offset=0 (i32.add (global.get $sSelf) (i32.shl (local.get $r0) (i32.const 2)))))
        (local.set $q1 (i32.add (global.get $sQ) (i32.mul (i32.add (local.get $r0) (i32.const 1)) (local.get $dstride))))
        (local.set $self1 (i32.load offset=4 (i32.add (global.get $sSelf) (i32.shl (local.get $r0) (i32.const 2)))))
        (local.set $q2 (i32.add (global.get $sQ) (i32.mul (i32.add (local.get $r0) (i32.const 2)) (local.get $dstride))))
        (local.set $self2 (i32.load offset=8 (i32.add (global.get $sSelf) (i32.shl (local.get $r0) (i32.const 2)))))
        (local.set $q3 (i32.add (global.get $sQ) (i32.mul (i32.add (local.get $r0) (i32.const 3)) (local.get $dstride))))
        (local.set $self3 (i32.load offset=12 (i32.add (global.get $sSelf) (i32.shl (local.get $r0) (i32.const 2)))))
    (local.set $qnp (i32.add (local.get $qn) (i32.shl (local.get $r0) (i32.const 2))))
    (local.set $run0 (local.get $zero)) (local.set $run1 (local.get $zero)) (local.set $run2 (local.get $zero)) (local.set $run3 (local.get $zero))
    (local.set $p (local.get $pa))
    (block $pdone
      (loop $panel
        (br_if $pdone (i32.ge_u (local.get $p) (local.get $pb)))
        (local.set $pp (i32.add (local.get $panels) (i32.mul (local.get $p) (global.get $pstride))))
        (local.set $code (i32.load (i32.add (local.get $codes) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $ma (v128.load (i32.add (local.get $mask) (i32.shl (local.get $p) (i32.const 5)))))
        (local.set $mb (v128.load offset=16 (i32.add (local.get $mask) (i32.shl (local.get $p) (i32.const 5)))))
        (local.set $na (v128.load (local.get $pp)))
        (local.set $nb (v128.load offset=16 (local.get $pp)))
            (local.set $a0 (local.get $na)) (local.set $b0 (local.get $nb))
            (local.set $a1 (local.get $na)) (local.set $b1 (local.get $nb))
            (local.set $a2 (local.get $na)) (local.set $b2 (local.get $nb))
            (local.set $a3 (local.get $na)) (local.set $b3 (local.get $nb))
        (local.set $c (i32.const 0))
        (local.set $ya (v128.load offset=32 (local.get $pp)))
        (local.set $yb (v128.load offset=48 (local.get $pp)))
        (loop $dims
              (local.set $s (v128.load32_splat (i32.add (local.get $q0) (local.get $c))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $ya))))
              (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s) (local.get $yb))))
              (local.set $s (v128.load32_splat (i32.add (local.get $q1) (local.get $c))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $ya))))
              (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s) (local.get $yb))))
              (local.set $s (v128.load32_splat (i32.add (local.get $q2) (local.get $c))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $ya))))
              (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $s) (local.get $yb))))
              (local.set $s (v128.load32_splat (i32.add (local.get $q3) (local.get $c))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $ya))))
              (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $s) (local.get $yb))))
          (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (local.set $ya (v128.load offset=32 (local.get $pp)))
          (local.set $yb (v128.load offset=48 (local.get $pp)))
          (br_if $dims (i32.lt_u (local.get $c) (local.get $cend))))
            (if (local.get $cos)
              (then
                (local.set $a0 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $a0))))))
                (local.set $b0 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $b0)))))))
              (else
                (local.set $t (v128.load32_splat offset=0 (local.get $qnp)))
                (local.set $a0 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $a0) (local.get $t)))))
                (local.set $b0 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $b0) (local.get $t)))))))
            (local.set $a0 (f32x4.mul (local.get $a0) (local.get $ma)))
            (local.set $b0 (f32x4.mul (local.get $b0) (local.get $mb)))
            (if (i32.eq (i32.shr_s (local.get $self0) (i32.const 3)) (local.get $p))
              (then
                (local.set $a0 (v128.and (local.get $a0) (i32x4.ne (local.get $lane0) (i32x4.splat (i32.and (local.get $self0) (i32.const 7))))))
                (local.set $b0 (v128.and (local.get $b0) (i32x4.ne (local.get $lane4) (i32x4.splat (i32.and (local.get $self0) (i32.const 7))))))))
            (local.set $run0 (f32x4.add (local.get $run0) (f32x4.add (local.get $a0) (local.get $b0))))
            (if (local.get $cos)
              (then
                (local.set $a1 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $a1))))))
                (local.set $b1 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $b1)))))))
              (else
                (local.set $t (v128.load32_splat offset=4 (local.get $qnp)))
                (local.set $a1 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $a1) (local.get $t)))))
                (local.set $b1 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $b1) (local.get $t)))))))
            (local.set $a1 (f32x4.mul (local.get $a1) (local.get $ma)))
            (local.set $b1 (f32x4.mul (local.get $b1) (local.get $mb)))
            (if (i32.eq (i32.shr_s (local.get $self1) (i32.const 3)) (local.get $p))
              (then
                (local.set $a1 (v128.and (local.get $a1) (i32x4.ne (local.get $lane0) (i32x4.splat (i32.and (local.get $self1) (i32.const 7))))))
                (local.set $b1 (v128.and (local.get $b1) (i32x4.ne (local.get $lane4) (i32x4.splat (i32.and (local.get $self1) (i32.const 7))))))))
            (local.set $run1 (f32x4.add (local.get $run1) (f32x4.add (local.get $a1) (local.get $b1))))
            (if (local.get $cos)
              (then
                (local.set $a2 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $a2))))))
                (local.set $b2 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $b2)))))))
              (else
                (local.set $t (v128.load32_splat offset=8 (local.get $qnp)))
                (local.set $a2 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $a2) (local.get $t)))))
                (local.set $b2 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $b2) (local.get $t)))))))
            (local.set $a2 (f32x4.mul (local.get $a2) (local.get $ma)))
            (local.set $b2 (f32x4.mul (local.get $b2) (local.get $mb)))
            (if (i32.eq (i32.shr_s (local.get $self2) (i32.const 3)) (local.get $p))
              (then
                (local.set $a2 (v128.and (local.get $a2) (i32x4.ne (local.get $lane0) (i32x4.splat (i32.and (local.get $self2) (i32.const 7))))))
                (local.set $b2 (v128.and (local.get $b2) (i32x4.ne (local.get $lane4) (i32x4.splat (i32.and (local.get $self2) (i32.const 7))))))))
            (local.set $run2 (f32x4.add (local.get $run2) (f32x4.add (local.get $a2) (local.get $b2))))
            (if (local.get $cos)
              (then
                (local.set $a3 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $a3))))))
                (local.set $b3 (f32x4.min (local.get $two) (f32x4.max (local.get $zero) (f32x4.add (local.get $one) (f32x4.mul (local.get $half) (local.get $b3)))))))
              (else
                (local.set $t (v128.load32_splat offset=12 (local.get $qnp)))
                (local.set $a3 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $a3) (local.get $t)))))
                (local.set $b3 (f32x4.sqrt (f32x4.max (local.get $zero) (f32x4.add (local.get $b3) (local.get $t)))))))
            (local.set $a3 (f32x4.mul (local.get $a3) (local.get $ma)))
            (local.set $b3 (f32x4.mul (local.get $b3) (local.get $mb)))
            (if (i32.eq (i32.shr_s (local.get $self3) (i32.const 3)) (local.get $p))
              (then
                (local.set $a3 (v128.and (local.get $a3) (i32x4.ne (local.get $lane0) (i32x4.splat (i32.and (local.get $self3) (i32.const 7))))))
                (local.set $b3 (v128.and (local.get $b3) (i32x4.ne (local.get $lane4) (i32x4.splat (i32.and (local.get $self3) (i32.const 7))))))))
            (local.set $run3 (f32x4.add (local.get $run3) (f32x4.add (local.get $a3) (local.get $b3))))
        (local.set $run (i32.add (local.get $run) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        ;; Flush to float64 at the end of a cluster's panels, every 64 panels and at the end.
        (if (i32.or (i32.or (i32.ge_u (local.get $p) (local.get $pb)) (i32.ge_u (local.get $run) (i32.const 64)))
              (i32.ne (local.get $code) (i32.load (i32.add (local.get $codes) (i32.shl (local.get $p) (i32.const 2))))))
          (then
            (local.set $run (i32.const 0))
                (local.set $sp (i32.add (global.get $sSums) (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (i32.const 0)) (global.get $sL)) (local.get $code)) (i32.const 3))))
                (f64.store (local.get $sp) (f64.add (f64.load (local.get $sp)) (f64.promote_f32 (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $run0)) (f32x4.extract_lane 1 (local.get $run0)))
                  (f32.add (f32x4.extract_lane 2 (local.get $run0)) (f32x4.extract_lane 3 (local.get $run0)))))))
                (local.set $run0 (local.get $zero))
                (local.set $sp (i32.add (global.get $sSums) (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (i32.const 1)) (global.get $sL)) (local.get $code)) (i32.const 3))))
                (f64.store (local.get $sp) (f64.add (f64.load (local.get $sp)) (f64.promote_f32 (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $run1)) (f32x4.extract_lane 1 (local.get $run1)))
                  (f32.add (f32x4.extract_lane 2 (local.get $run1)) (f32x4.extract_lane 3 (local.get $run1)))))))
                (local.set $run1 (local.get $zero))
                (local.set $sp (i32.add (global.get $sSums) (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (i32.const 2)) (global.get $sL)) (local.get $code)) (i32.const 3))))
                (f64.store (local.get $sp) (f64.add (f64.load (local.get $sp)) (f64.promote_f32 (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $run2)) (f32x4.extract_lane 1 (local.get $run2)))
                  (f32.add (f32x4.extract_lane 2 (local.get $run2)) (f32x4.extract_lane 3 (local.get $run2)))))))
                (local.set $run2 (local.get $zero))
                (local.set $sp (i32.add (global.get $sSums) (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (i32.const 3)) (global.get $sL)) (local.get $code)) (i32.const 3))))
                (f64.store (local.get $sp) (f64.add (f64.load (local.get $sp)) (f64.promote_f32 (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $run3)) (f32x4.extract_lane 1 (local.get $run3)))
                  (f32.add (f32x4.extract_lane 2 (local.get $run3)) (f32x4.extract_lane 3 (local.get $run3)))))))
                (local.set $run3 (local.get $zero))))
        (br $panel))))

  ;; Distance sums per cluster: `params` points at i32 words: rows (padded to 4), d, panels, nPanels,
  ;; panel codes, panel masks (8 × f32 per panel: 1 = a cell, 0 = padding), q (−2x or −2x̂ per row),
  ;; qn (‖x‖² per row), self (each row's column position, or −1), sums (f64 rows × L), L, counter,
  ;; cosine (0: Euclidean √d², 1: 1 − x̂·ŷ clipped to [0, 2]; panels then hold x̂ with ‖·‖² = 0).
  ;; Each thread takes chunks of 64 rows from the shared counter and runs them against every
  ;; column chunk of 512 panels (kept in cache across the chunk's rows).
  (func (export "clusterSums") (param $lo i32) (param $hi i32) (param $params i32)
    (local $rows i32) (local $nPanels i32) (local $panels i32) (local $codes i32) (local $mask i32) (local $qn i32) (local $counter i32) (local $cos i32)
    (local $chunk i32) (local $r0 i32) (local $rEnd i32) (local $pa i32) (local $pb i32) (local $g i32)
    (local.set $rows (i32.load (local.get $params)))
    (global.set $d (i32.load offset=4 (local.get $params)))
    (local.set $panels (i32.load offset=8 (local.get $params)))
    (local.set $nPanels (i32.load offset=12 (local.get $params)))
    (local.set $codes (i32.load offset=16 (local.get $params)))
    (local.set $mask (i32.load offset=20 (local.get $params)))
    (global.set $sQ (i32.load offset=24 (local.get $params)))
    (local.set $qn (i32.load offset=28 (local.get $params)))
    (global.set $sSelf (i32.load offset=32 (local.get $params)))
    (global.set $sSums (i32.load offset=36 (local.get $params)))
    (global.set $sL (i32.load offset=40 (local.get $params)))
    (local.set $counter (i32.load offset=44 (local.get $params)))
    (local.set $cos (i32.load offset=48 (local.get $params)))
    (global.set $pstride (i32.shl (i32.add (global.get $d) (i32.const 1)) (i32.const 5)))
    (block $all
      (loop $chunks
        (local.set $chunk (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
        (local.set $r0 (i32.mul (local.get $chunk) (i32.const 64)))
        (br_if $all (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $rEnd (i32.add (local.get $r0) (i32.const 64)))
        (if (i32.gt_u (local.get $rEnd) (local.get $rows)) (then (local.set $rEnd (local.get $rows))))
        (local.set $pa (i32.const 0))
        (block $cdone
          (loop $cols
            (br_if $cdone (i32.ge_u (local.get $pa) (local.get $nPanels)))
            (local.set $pb (i32.add (local.get $pa) (i32.const 512)))
            (if (i32.gt_u (local.get $pb) (local.get $nPanels)) (then (local.set $pb (local.get $nPanels))))
            (local.set $g (local.get $r0))
            (block $gdone
              (loop $groups
                (br_if $gdone (i32.ge_u (local.get $g) (local.get $rEnd)))
                (call $sumTile (local.get $g) (local.get $pa) (local.get $pb) (local.get $panels) (local.get $codes) (local.get $mask) (local.get $qn) (local.get $cos))
                (local.set $g (i32.add (local.get $g) (i32.const 4)))
                (br $groups)))
            (local.set $pa (local.get $pb))
            (br $cols)))
        (br $chunks))))
)
