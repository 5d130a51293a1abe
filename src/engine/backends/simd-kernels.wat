;; The studio's convolution kernels for tfjs-backend-wasm (simd-kernels.ts drives them;
;; npm run kernels compiles this file into simd-kernels.generated.ts).
;;
;; They compute in tfjs's own heap: the module imports tfjs's memory (shared when tfjs runs its
;; threaded build). Every kernel is a matrix product tiled in registers: a tile of 4 rows by 8
;; columns kept in eight f32x4 accumulators, each step loading 4 values of the left operand as
;; splats and 8 of the right operand, then 8 fused multiply-adds (relaxed SIMD's madd). The left
;; operand's rows are windows of the (zero-padded) input, read in place; the right operand comes
;; in panels of 8 columns, packed per call. The work-split kernels (filter_grad, input_grad,
;; conv_forward) take an argument block and (slice, slices): each slice computes a disjoint part
;; of the output, in the same order whatever the number of slices, so results do not depend on
;; the thread count.
(module
  (memory (import "env" "memory") 1 65536 shared)

;; dW[i][f][co] += sum over positions of xp[n, oy*sh + i*dh, ox*sw*cin + f] * dy[n, oy, ox, co]
  ;; args: 0 xp, 1 dy, 2 dw, 3 n, 4 oh, 5 ow, 6 hp, 7 wp, 8 cin, 9 coutp, 10 kh, 11 f, 12 sh, 13 sw, 14 dh,
  ;;       15 blockRows, 16 scratch (per slice: blockRows*ow*(16 + coutp*4) bytes)
  (func (export "filter_grad") (param $args i32) (param $slice i32) (param $slices i32)
    (local $xp i32) (local $dy i32) (local $dw i32) (local $nb i32) (local $oh i32) (local $ow i32)
    (local $hp i32) (local $wp i32) (local $cin i32) (local $coutp i32) (local $kh i32) (local $f i32)
    (local $sh i32) (local $sw i32) (local $dh i32) (local $block i32) (local $ap i32) (local $bp i32)
    (local $fts i32) (local $cts i32) (local $items i32) (local $item i32)
    (local $i i32) (local $ft i32) (local $ct i32) (local $count i32) (local $q i32)
    (local $rows i32) (local $r0 i32) (local $r1 i32) (local $r i32) (local $n i32) (local $oy i32)
    (local $a i32) (local $b i32) (local $c i32) (local $ox i32) (local $astep i32) (local $crow i32) (local $panel i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $xp (i32.load offset=0 (local.get $args)))
    (local.set $dy (i32.load offset=4 (local.get $args)))
    (local.set $dw (i32.load offset=8 (local.get $args)))
    (local.set $nb (i32.load offset=12 (local.get $args)))
    (local.set $oh (i32.load offset=16 (local.get $args)))
    (local.set $ow (i32.load offset=20 (local.get $args)))
    (local.set $hp (i32.load offset=24 (local.get $args)))
    (local.set $wp (i32.load offset=28 (local.get $args)))
    (local.set $cin (i32.load offset=32 (local.get $args)))
    (local.set $coutp (i32.load offset=36 (local.get $args)))
    (local.set $kh (i32.load offset=40 (local.get $args)))
    (local.set $f (i32.load offset=44 (local.get $args)))
    (local.set $sh (i32.load offset=48 (local.get $args)))
    (local.set $sw (i32.load offset=52 (local.get $args)))
    (local.set $dh (i32.load offset=56 (local.get $args)))
    (local.set $block (i32.load offset=60 (local.get $args)))
    (local.set $fts (i32.shr_u (i32.add (local.get $f) (i32.const 3)) (i32.const 2)))
    (local.set $cts (i32.shr_u (local.get $coutp) (i32.const 3)))
    (local.set $items (i32.mul (local.get $kh) (local.get $fts)))
    (local.set $rows (i32.mul (local.get $nb) (local.get $oh)))
    (local.set $astep (i32.shl (i32.mul (local.get $sw) (local.get $cin)) (i32.const 2)))
    (local.set $crow (i32.shl (local.get $coutp) (i32.const 2)))
    ;; this slice's packed panels: A [block*ow][4], then B [cts][block*ow][8]
    (local.set $ap (i32.add (i32.load offset=64 (local.get $args))
      (i32.mul (local.get $slice) (i32.mul (i32.mul (local.get $block) (local.get $ow))
        (i32.add (i32.const 16) (i32.shl (local.get $coutp) (i32.const 2)))))))
    (local.set $bp (i32.add (local.get $ap) (i32.shl (i32.mul (local.get $block) (local.get $ow)) (i32.const 4))))
    (local.set $r0 (i32.const 0))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $block)))
        (if (i32.gt_u (local.get $r1) (local.get $rows)) (then (local.set $r1 (local.get $rows))))
        (local.set $count (i32.mul (i32.sub (local.get $r1) (local.get $r0)) (local.get $ow)))
        ;; pack dy's rows of this block by column tile: B[ct][q][0..8]
        (local.set $a (i32.add (local.get $dy) (i32.shl (i32.mul (i32.mul (local.get $r0) (local.get $ow)) (local.get $coutp)) (i32.const 2))))
        (local.set $q (i32.const 0))
        (loop $pack_b_rows
          (local.set $b (i32.add (local.get $bp) (i32.shl (local.get $q) (i32.const 5))))
          (local.set $ct (local.get $cts))
          (loop $pack_b_tiles
            (v128.store (local.get $b) (v128.load (local.get $a)))
            (v128.store offset=16 (local.get $b) (v128.load offset=16 (local.get $a)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.shl (local.get $count) (i32.const 5))))
            (local.set $ct (i32.sub (local.get $ct) (i32.const 1)))
            (br_if $pack_b_tiles (local.get $ct)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br_if $pack_b_rows (i32.lt_u (local.get $q) (local.get $count))))
        (local.set $item (local.get $slice))
        (block $items_done
          (loop $items_loop
            (br_if $items_done (i32.ge_u (local.get $item) (local.get $items)))
            (local.set $ft (i32.rem_u (local.get $item) (local.get $fts)))
            (local.set $i (i32.div_u (local.get $item) (local.get $fts)))
            ;; pack the block's four columns f = 4ft.. of kernel row i: A[q][0..4]
            (local.set $b (local.get $ap))
            (local.set $r (local.get $r0))
            (loop $pack_a_rows
              (local.set $n (i32.div_u (local.get $r) (local.get $oh)))
              (local.set $oy (i32.sub (local.get $r) (i32.mul (local.get $n) (local.get $oh))))
              (local.set $a (i32.add (local.get $xp) (i32.shl
                (i32.add
                  (i32.mul (i32.mul (i32.add (i32.mul (local.get $n) (local.get $hp))
                    (i32.add (i32.mul (local.get $oy) (local.get $sh)) (i32.mul (local.get $i) (local.get $dh))))
                    (local.get $wp)) (local.get $cin))
                  (i32.shl (local.get $ft) (i32.const 2)))
                (i32.const 2))))
              (local.set $ox (local.get $ow))
              (loop $pack_a
                (v128.store (local.get $b) (v128.load (local.get $a)))
                (local.set $a (i32.add (local.get $a) (local.get $astep)))
                (local.set $b (i32.add (local.get $b) (i32.const 16)))
                (local.set $ox (i32.sub (local.get $ox) (i32.const 1)))
                (br_if $pack_a (local.get $ox)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $pack_a_rows (i32.lt_u (local.get $r) (local.get $r1))))
            (local.set $c (i32.add (local.get $dw)
              (i32.mul (i32.shl (i32.add (i32.mul (local.get $i) (local.get $fts)) (local.get $ft)) (i32.const 2)) (local.get $crow))))
            (local.set $panel (local.get $bp))
            (local.set $ct (local.get $cts))
            (loop $tiles
              (local.set $c00 (v128.load (local.get $c)))
              (local.set $c01 (v128.load offset=16 (local.get $c)))
              (local.set $c10 (v128.load (i32.add (local.get $c) (local.get $crow))))
              (local.set $c11 (v128.load offset=16 (i32.add (local.get $c) (local.get $crow))))
              (local.set $c20 (v128.load (i32.add (local.get $c) (i32.shl (local.get $crow) (i32.const 1)))))
              (local.set $c21 (v128.load offset=16 (i32.add (local.get $c) (i32.shl (local.get $crow) (i32.const 1)))))
              (local.set $c30 (v128.load (i32.add (local.get $c) (i32.mul (local.get $crow) (i32.const 3)))))
              (local.set $c31 (v128.load offset=16 (i32.add (local.get $c) (i32.mul (local.get $crow) (i32.const 3)))))
              (local.set $a (local.get $ap))
              (local.set $b (local.get $panel))
              (local.set $q (local.get $count))
              (loop $positions
                (local.set $a0 (v128.load32_splat (local.get $a)))
                (local.set $a1 (v128.load32_splat offset=4 (local.get $a)))
                (local.set $a2 (v128.load32_splat offset=8 (local.get $a)))
                (local.set $a3 (v128.load32_splat offset=12 (local.get $a)))
                (local.set $b0 (v128.load (local.get $b)))
                (local.set $b1 (v128.load offset=16 (local.get $b)))
                (local.set $c00 (f32x4.relaxed_madd (local.get $a0) (local.get $b0) (local.get $c00)))
                (local.set $c01 (f32x4.relaxed_madd (local.get $a0) (local.get $b1) (local.get $c01)))
                (local.set $c10 (f32x4.relaxed_madd (local.get $a1) (local.get $b0) (local.get $c10)))
                (local.set $c11 (f32x4.relaxed_madd (local.get $a1) (local.get $b1) (local.get $c11)))
                (local.set $c20 (f32x4.relaxed_madd (local.get $a2) (local.get $b0) (local.get $c20)))
                (local.set $c21 (f32x4.relaxed_madd (local.get $a2) (local.get $b1) (local.get $c21)))
                (local.set $c30 (f32x4.relaxed_madd (local.get $a3) (local.get $b0) (local.get $c30)))
                (local.set $c31 (f32x4.relaxed_madd (local.get $a3) (local.get $b1) (local.get $c31)))
                (local.set $a (i32.add (local.get $a) (i32.const 16)))
                (local.set $b (i32.add (local.get $b) (i32.const 32)))
                (local.set $q (i32.sub (local.get $q) (i32.const 1)))
                (br_if $positions (local.get $q)))
              (v128.store (local.get $c) (local.get $c00))
              (v128.store offset=16 (local.get $c) (local.get $c01))
              (v128.store (i32.add (local.get $c) (local.get $crow)) (local.get $c10))
              (v128.store offset=16 (i32.add (local.get $c) (local.get $crow)) (local.get $c11))
              (v128.store (i32.add (local.get $c) (i32.shl (local.get $crow) (i32.const 1))) (local.get $c20))
              (v128.store offset=16 (i32.add (local.get $c) (i32.shl (local.get $crow) (i32.const 1))) (local.get $c21))
              (v128.store (i32.add (local.get $c) (i32.mul (local.get $crow) (i32.const 3))) (local.get $c30))
              (v128.store offset=16 (i32.add (local.get $c) (i32.mul (local.get $crow) (i32.const 3))) (local.get $c31))
              (local.set $c (i32.add (local.get $c) (i32.const 32)))
              (local.set $panel (i32.add (local.get $panel) (i32.shl (local.get $count) (i32.const 5))))
              (local.set $ct (i32.sub (local.get $ct) (i32.const 1)))
              (br_if $tiles (local.get $ct)))
            (local.set $item (i32.add (local.get $item) (local.get $slices)))
            (br $items_loop)))
        (local.set $r0 (local.get $r1))
        (br $blocks)))
  )

  ;; Copies `rows` rows of `bytes` (a multiple of 4) from src to dst, each pointer advancing by its
  ;; stride; short rows (one pixel's channels) move in vectors rather than through memory.copy.
  (func (export "copy_rows") (param $dst i32) (param $dstStride i32) (param $src i32) (param $srcStride i32)
    (param $bytes i32) (param $rows i32)
    (local $i i32)
    (block $done
      (loop $rows_loop
        (br_if $done (i32.eqz (local.get $rows)))
        (if (i32.ge_u (local.get $bytes) (i32.const 128))
          (then (memory.copy (local.get $dst) (local.get $src) (local.get $bytes)))
          (else
            (local.set $i (i32.const 0))
            (block $vectors_done
              (loop $vectors
                (br_if $vectors_done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $bytes)))
                (v128.store (i32.add (local.get $dst) (local.get $i)) (v128.load (i32.add (local.get $src) (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $vectors)))
            (block $words_done
              (loop $words
                (br_if $words_done (i32.ge_u (local.get $i) (local.get $bytes)))
                (f32.store (i32.add (local.get $dst) (local.get $i)) (f32.load (i32.add (local.get $src) (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $words)))))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rows_loop))))

  (func (export "zero") (param $dst i32) (param $bytes i32)
    (memory.fill (local.get $dst) (i32.const 0) (local.get $bytes)))


  ;; dst[g][t][c][l] = src[g][8t + l][c] (0 where 8t + l >= rows): [g][rows][cols] in row panels of 8.
  (func (export "pack_row_panels") (param $dst i32) (param $src i32) (param $groups i32) (param $rows i32) (param $cols i32)
    (local $g i32) (local $t i32) (local $tiles i32) (local $c i32) (local $l i32) (local $r i32) (local $base i32)
    (local.set $tiles (i32.shr_u (i32.add (local.get $rows) (i32.const 7)) (i32.const 3)))
    (block $done (loop $groups_loop
      (br_if $done (i32.ge_u (local.get $g) (local.get $groups)))
      (local.set $base (i32.add (local.get $src) (i32.shl (i32.mul (i32.mul (local.get $g) (local.get $rows)) (local.get $cols)) (i32.const 2))))
      (local.set $t (i32.const 0))
      (loop $tiles_loop
        (local.set $c (i32.const 0))
        (loop $cols_loop
          (local.set $l (i32.const 0))
          (loop $lanes
            (local.set $r (i32.add (i32.shl (local.get $t) (i32.const 3)) (local.get $l)))
            (f32.store (local.get $dst)
              (if (result f32) (i32.lt_u (local.get $r) (local.get $rows))
                (then (f32.load (i32.add (local.get $base) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
                (else (f32.const 0))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (local.set $l (i32.add (local.get $l) (i32.const 1)))
            (br_if $lanes (i32.lt_u (local.get $l) (i32.const 8))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $cols_loop (i32.lt_u (local.get $c) (local.get $cols))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br_if $tiles_loop (i32.lt_u (local.get $t) (local.get $tiles))))
      (local.set $g (i32.add (local.get $g) (i32.const 1)))
      (br $groups_loop))))

  ;; dst[t][r][l] = src[r][8t + l] (0 where 8t + l >= cols): [rows][cols] in column panels of 8.
  (func (export "pack_col_panels") (param $dst i32) (param $src i32) (param $rows i32) (param $cols i32)
    (local $t i32) (local $tiles i32) (local $r i32) (local $l i32) (local $c i32)
    (local.set $tiles (i32.shr_u (i32.add (local.get $cols) (i32.const 7)) (i32.const 3)))
    (loop $tiles_loop
      (local.set $r (i32.const 0))
      (loop $rows_loop
        (local.set $l (i32.const 0))
        (loop $lanes
          (local.set $c (i32.add (i32.shl (local.get $t) (i32.const 3)) (local.get $l)))
          (f32.store (local.get $dst)
            (if (result f32) (i32.lt_u (local.get $c) (local.get $cols))
              (then (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
              (else (f32.const 0))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $l (i32.add (local.get $l) (i32.const 1)))
          (br_if $lanes (i32.lt_u (local.get $l) (i32.const 8))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows_loop (i32.lt_u (local.get $r) (local.get $rows))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $tiles_loop (i32.lt_u (local.get $t) (local.get $tiles)))))


  ;; dst[p] = base + ((b*hp + oy*sh)*wp + ox*sw)*cin*4 for each position p = (b, oy, ox) of [n][oh][ow]
  (func (export "window_bases") (param $dst i32) (param $base i32) (param $n i32) (param $oh i32) (param $ow i32)
    (param $hp i32) (param $wp i32) (param $cin i32) (param $sh i32) (param $sw i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $row i32) (local $step i32)
    (local.set $step (i32.shl (i32.mul (local.get $sw) (local.get $cin)) (i32.const 2)))
    (block $done (loop $images
      (br_if $done (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $oy (i32.const 0))
      (loop $rows
        (local.set $row (i32.add (local.get $base) (i32.shl (i32.mul (i32.mul
          (i32.add (i32.mul (local.get $b) (local.get $hp)) (i32.mul (local.get $oy) (local.get $sh)))
          (local.get $wp)) (local.get $cin)) (i32.const 2))))
        (local.set $ox (local.get $ow))
        (loop $cols
          (i32.store (local.get $dst) (local.get $row))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $row (i32.add (local.get $row) (local.get $step)))
          (local.set $ox (i32.sub (local.get $ox) (i32.const 1)))
          (br_if $cols (local.get $ox)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $oy) (local.get $oh))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $images))))

  ;; y[p, co] = sum over kernel rows i and f < fw of x[bases[p] + i*rowstep + f*4] * w[i, f, co]
  ;; args: 0 bases (i32 per position), 1 wpk (column panels [cts][kh*fw][8]), 2 y, 3 positions, 4 ystride bytes,
  ;;       5 cts, 6 kh, 7 fw, 8 rowstep bytes, 9 chunk (positions per work item)
  (func (export "conv_forward") (param $args i32) (param $slice i32) (param $slices i32)
    (local $bases i32) (local $wpk i32) (local $y i32) (local $np i32) (local $ys i32) (local $cts i32)
    (local $kh i32) (local $fw i32) (local $rowstep i32) (local $chunk i32)
    (local $c0 i32) (local $c1 i32) (local $p i32) (local $ct i32) (local $i i32) (local $k i32) (local $panel i32)
    (local $w i32) (local $c i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $back i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $bases (i32.load offset=0 (local.get $args)))
    (local.set $wpk (i32.load offset=4 (local.get $args)))
    (local.set $y (i32.load offset=8 (local.get $args)))
    (local.set $np (i32.load offset=12 (local.get $args)))
    (local.set $ys (i32.load offset=16 (local.get $args)))
    (local.set $cts (i32.load offset=20 (local.get $args)))
    (local.set $kh (i32.load offset=24 (local.get $args)))
    (local.set $fw (i32.load offset=28 (local.get $args)))
    (local.set $rowstep (i32.load offset=32 (local.get $args)))
    (local.set $chunk (i32.load offset=36 (local.get $args)))
    (local.set $back (i32.sub (local.get $rowstep) (i32.shl (local.get $fw) (i32.const 2))))
    (local.set $c0 (i32.mul (local.get $slice) (local.get $chunk)))
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_u (local.get $c0) (local.get $np)))
        (local.set $c1 (i32.add (local.get $c0) (local.get $chunk)))
        (if (i32.gt_u (local.get $c1) (local.get $np)) (then (local.set $c1 (local.get $np))))
        (local.set $panel (local.get $wpk))
        (local.set $ct (local.get $cts))
        (loop $ctiles
          (local.set $p (local.get $c0))
          (block $quads_done
            (loop $quads
              (br_if $quads_done (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $c1)))
              (local.set $c (i32.add (local.get $bases) (i32.shl (local.get $p) (i32.const 2))))
              (local.set $p0 (i32.load (local.get $c)))
              (local.set $p1 (i32.load offset=4 (local.get $c)))
              (local.set $p2 (i32.load offset=8 (local.get $c)))
              (local.set $p3 (i32.load offset=12 (local.get $c)))
              (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
              (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
              (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
              (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
              (local.set $w (local.get $panel))
              (local.set $i (local.get $kh))
              (loop $kernel_rows
                (local.set $k (local.get $fw))
                (loop $kk
                  (local.set $a0 (v128.load32_splat (local.get $p0)))
                  (local.set $a1 (v128.load32_splat (local.get $p1)))
                  (local.set $a2 (v128.load32_splat (local.get $p2)))
                  (local.set $a3 (v128.load32_splat (local.get $p3)))
                  (local.set $b0 (v128.load (local.get $w)))
                  (local.set $b1 (v128.load offset=16 (local.get $w)))
                  (local.set $c00 (f32x4.relaxed_madd (local.get $a0) (local.get $b0) (local.get $c00)))
                  (local.set $c01 (f32x4.relaxed_madd (local.get $a0) (local.get $b1) (local.get $c01)))
                  (local.set $c10 (f32x4.relaxed_madd (local.get $a1) (local.get $b0) (local.get $c10)))
                  (local.set $c11 (f32x4.relaxed_madd (local.get $a1) (local.get $b1) (local.get $c11)))
                  (local.set $c20 (f32x4.relaxed_madd (local.get $a2) (local.get $b0) (local.get $c20)))
                  (local.set $c21 (f32x4.relaxed_madd (local.get $a2) (local.get $b1) (local.get $c21)))
                  (local.set $c30 (f32x4.relaxed_madd (local.get $a3) (local.get $b0) (local.get $c30)))
                  (local.set $c31 (f32x4.relaxed_madd (local.get $a3) (local.get $b1) (local.get $c31)))
                  (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
                  (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
                  (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
                  (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
                  (local.set $w (i32.add (local.get $w) (i32.const 32)))
                  (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                  (br_if $kk (local.get $k)))
                (local.set $p0 (i32.add (local.get $p0) (local.get $back)))
                (local.set $p1 (i32.add (local.get $p1) (local.get $back)))
                (local.set $p2 (i32.add (local.get $p2) (local.get $back)))
                (local.set $p3 (i32.add (local.get $p3) (local.get $back)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br_if $kernel_rows (local.get $i)))
              (local.set $c (i32.add (i32.add (local.get $y) (i32.mul (local.get $p) (local.get $ys)))
                (i32.shl (i32.sub (local.get $cts) (local.get $ct)) (i32.const 5))))
              (v128.store (local.get $c) (local.get $c00))
              (v128.store offset=16 (local.get $c) (local.get $c01))
              (local.set $c (i32.add (local.get $c) (local.get $ys)))
              (v128.store (local.get $c) (local.get $c10))
              (v128.store offset=16 (local.get $c) (local.get $c11))
              (local.set $c (i32.add (local.get $c) (local.get $ys)))
              (v128.store (local.get $c) (local.get $c20))
              (v128.store offset=16 (local.get $c) (local.get $c21))
              (local.set $c (i32.add (local.get $c) (local.get $ys)))
              (v128.store (local.get $c) (local.get $c30))
              (v128.store offset=16 (local.get $c) (local.get $c31))
              (local.set $p (i32.add (local.get $p) (i32.const 4)))
              (br $quads)))
          (block $singles_done
            (loop $singles
              (br_if $singles_done (i32.ge_u (local.get $p) (local.get $c1)))
              (local.set $p0 (i32.load (i32.add (local.get $bases) (i32.shl (local.get $p) (i32.const 2)))))
              (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
              (local.set $w (local.get $panel))
              (local.set $i (local.get $kh))
              (loop $kernel_rows1
                (local.set $k (local.get $fw))
                (loop $kk1
                  (local.set $a0 (v128.load32_splat (local.get $p0)))
                  (local.set $c00 (f32x4.relaxed_madd (local.get $a0) (v128.load (local.get $w)) (local.get $c00)))
                  (local.set $c01 (f32x4.relaxed_madd (local.get $a0) (v128.load offset=16 (local.get $w)) (local.get $c01)))
                  (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
                  (local.set $w (i32.add (local.get $w) (i32.const 32)))
                  (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                  (br_if $kk1 (local.get $k)))
                (local.set $p0 (i32.add (local.get $p0) (local.get $back)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br_if $kernel_rows1 (local.get $i)))
              (local.set $c (i32.add (i32.add (local.get $y) (i32.mul (local.get $p) (local.get $ys)))
                (i32.shl (i32.sub (local.get $cts) (local.get $ct)) (i32.const 5))))
              (v128.store (local.get $c) (local.get $c00))
              (v128.store offset=16 (local.get $c) (local.get $c01))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $singles)))
          (local.set $panel (local.get $w))
          (local.set $ct (i32.sub (local.get $ct) (i32.const 1)))
          (br_if $ctiles (local.get $ct)))
        (local.set $c0 (i32.add (local.get $c0) (i32.mul (local.get $slices) (local.get $chunk))))
        (br $chunks)))
  )

  ;; dx[bases[p] + i*rowstep + f*4] += sum over co of dy[p, co] * w[i, f, co], positions p of one image at a time
  ;; args: 0 bases (i32 per position, into the padded dx), 1 dy, 2 wt (row panels [kh][fts][cout][8]), 3 images,
  ;;       4 positions per image, 5 cout, 6 kh, 7 fts, 8 rowstep bytes
  (func (export "input_grad") (param $args i32) (param $slice i32) (param $slices i32)
    (local $bases i32) (local $dy i32) (local $wt i32) (local $nb i32) (local $pi i32) (local $cout i32)
    (local $kh i32) (local $fts i32) (local $rowstep i32)
    (local $n i32) (local $i i32) (local $ft i32) (local $p i32) (local $pend i32) (local $co i32) (local $off i32)
    (local $panel i32) (local $w i32) (local $a i32) (local $c i32) (local $cstep i32) (local $t i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $bases (i32.load offset=0 (local.get $args)))
    (local.set $dy (i32.load offset=4 (local.get $args)))
    (local.set $wt (i32.load offset=8 (local.get $args)))
    (local.set $nb (i32.load offset=12 (local.get $args)))
    (local.set $pi (i32.load offset=16 (local.get $args)))
    (local.set $cout (i32.load offset=20 (local.get $args)))
    (local.set $kh (i32.load offset=24 (local.get $args)))
    (local.set $fts (i32.load offset=28 (local.get $args)))
    (local.set $rowstep (i32.load offset=32 (local.get $args)))
    (local.set $cstep (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $n (local.get $slice))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $n) (local.get $nb)))
        (local.set $panel (local.get $wt))
        (local.set $i (i32.const 0))
        (loop $kernel_rows
          (local.set $ft (i32.const 0))
          (loop $ftiles
            (local.set $off (i32.add (i32.mul (local.get $i) (local.get $rowstep)) (i32.shl (local.get $ft) (i32.const 5))))
            (local.set $p (i32.mul (local.get $n) (local.get $pi)))
            (local.set $pend (i32.add (local.get $p) (local.get $pi)))
            (block $quads_done
              (loop $quads
                (br_if $quads_done (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $pend)))
                (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
              (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
              (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
              (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
                (local.set $a (i32.add (local.get $dy) (i32.mul (local.get $p) (local.get $cstep))))
                (local.set $w (local.get $panel))
                (local.set $co (local.get $cout))
                (loop $k
                  (local.set $a0 (v128.load32_splat (local.get $a)))
                  (local.set $a1 (v128.load32_splat (i32.add (local.get $a) (local.get $cstep))))
                  (local.set $a2 (v128.load32_splat (i32.add (local.get $a) (i32.shl (local.get $cstep) (i32.const 1)))))
                  (local.set $a3 (v128.load32_splat (i32.add (local.get $a) (i32.mul (local.get $cstep) (i32.const 3)))))
                  (local.set $b0 (v128.load (local.get $w)))
                  (local.set $b1 (v128.load offset=16 (local.get $w)))
                  (local.set $c00 (f32x4.relaxed_madd (local.get $a0) (local.get $b0) (local.get $c00)))
                  (local.set $c01 (f32x4.relaxed_madd (local.get $a0) (local.get $b1) (local.get $c01)))
                  (local.set $c10 (f32x4.relaxed_madd (local.get $a1) (local.get $b0) (local.get $c10)))
                  (local.set $c11 (f32x4.relaxed_madd (local.get $a1) (local.get $b1) (local.get $c11)))
                  (local.set $c20 (f32x4.relaxed_madd (local.get $a2) (local.get $b0) (local.get $c20)))
                  (local.set $c21 (f32x4.relaxed_madd (local.get $a2) (local.get $b1) (local.get $c21)))
                  (local.set $c30 (f32x4.relaxed_madd (local.get $a3) (local.get $b0) (local.get $c30)))
                  (local.set $c31 (f32x4.relaxed_madd (local.get $a3) (local.get $b1) (local.get $c31)))
                  (local.set $a (i32.add (local.get $a) (i32.const 4)))
                  (local.set $w (i32.add (local.get $w) (i32.const 32)))
                  (local.set $co (i32.sub (local.get $co) (i32.const 1)))
                  (br_if $k (local.get $co)))
                ;; add into the four windows one after another: they may overlap
                (local.set $t (i32.add (local.get $bases) (i32.shl (local.get $p) (i32.const 2))))
                (local.set $c (i32.add (i32.load (local.get $t)) (local.get $off)))
                (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
                (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
                (local.set $c (i32.add (i32.load offset=4 (local.get $t)) (local.get $off)))
                (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c10)))
                (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
                (local.set $c (i32.add (i32.load offset=8 (local.get $t)) (local.get $off)))
                (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c20)))
                (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
                (local.set $c (i32.add (i32.load offset=12 (local.get $t)) (local.get $off)))
                (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c30)))
                (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c31)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $quads)))
            (block $singles_done
              (loop $singles
                (br_if $singles_done (i32.ge_u (local.get $p) (local.get $pend)))
                (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
                (local.set $a (i32.add (local.get $dy) (i32.mul (local.get $p) (local.get $cstep))))
                (local.set $w (local.get $panel))
                (local.set $co (local.get $cout))
                (loop $k1
                  (local.set $a0 (v128.load32_splat (local.get $a)))
                  (local.set $c00 (f32x4.relaxed_madd (local.get $a0) (v128.load (local.get $w)) (local.get $c00)))
                  (local.set $c01 (f32x4.relaxed_madd (local.get $a0) (v128.load offset=16 (local.get $w)) (local.get $c01)))
                  (local.set $a (i32.add (local.get $a) (i32.const 4)))
                  (local.set $w (i32.add (local.get $w) (i32.const 32)))
                  (local.set $co (i32.sub (local.get $co) (i32.const 1)))
                  (br_if $k1 (local.get $co)))
                (local.set $c (i32.add (i32.load (i32.add (local.get $bases) (i32.shl (local.get $p) (i32.const 2)))) (local.get $off)))
                (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
                (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $singles)))
            (local.set $panel (i32.add (local.get $panel) (i32.shl (local.get $cout) (i32.const 5))))
            (local.set $ft (i32.add (local.get $ft) (i32.const 1)))
            (br_if $ftiles (i32.lt_u (local.get $ft) (local.get $fts))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $kernel_rows (i32.lt_u (local.get $i) (local.get $kh))))
        (local.set $n (i32.add (local.get $n) (local.get $slices)))
        (br $images)))
  )

  ;; dst[t][(i*kw + j)*cout + co][l] = w[kh-1-i][kw-1-j][8t + l][co] (0 where 8t + l >= cin): the filter
  ;; flipped and its channels swapped, in column panels of 8, for the input gradient as a convolution.
  (func (export "pack_flipped_panels") (param $dst i32) (param $src i32) (param $kh i32) (param $kw i32)
    (param $cin i32) (param $cout i32)
    (local $t i32) (local $tiles i32) (local $i i32) (local $j i32) (local $co i32) (local $l i32) (local $ci i32) (local $tap i32)
    (local.set $tiles (i32.shr_u (i32.add (local.get $cin) (i32.const 7)) (i32.const 3)))
    (loop $tiles_loop
      (local.set $i (i32.const 0))
      (loop $rows
        (local.set $j (i32.const 0))
        (loop $cols
          ;; the flipped tap's first element
          (local.set $tap (i32.add (local.get $src) (i32.shl (i32.mul (i32.mul
            (i32.add (i32.mul (i32.sub (i32.sub (local.get $kh) (i32.const 1)) (local.get $i)) (local.get $kw))
              (i32.sub (i32.sub (local.get $kw) (i32.const 1)) (local.get $j)))
            (local.get $cin)) (local.get $cout)) (i32.const 2))))
          (local.set $co (i32.const 0))
          (loop $outs
            (local.set $l (i32.const 0))
            (loop $lanes
              (local.set $ci (i32.add (i32.shl (local.get $t) (i32.const 3)) (local.get $l)))
              (f32.store (local.get $dst)
                (if (result f32) (i32.lt_u (local.get $ci) (local.get $cin))
                  (then (f32.load (i32.add (local.get $tap)
                    (i32.shl (i32.add (i32.mul (local.get $ci) (local.get $cout)) (local.get $co)) (i32.const 2)))))
                  (else (f32.const 0))))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
              (local.set $l (i32.add (local.get $l) (i32.const 1)))
              (br_if $lanes (i32.lt_u (local.get $l) (i32.const 8))))
            (local.set $co (i32.add (local.get $co) (i32.const 1)))
            (br_if $outs (i32.lt_u (local.get $co) (local.get $cout))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $cols (i32.lt_u (local.get $j) (local.get $kw))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $i) (local.get $kh))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $tiles_loop (i32.lt_u (local.get $t) (local.get $tiles)))))

  ;; dst[c] = (sum over rows r of src[r][c]) * scale, summed in double precision (as tfjs's cpu
  ;; backend and PyTorch's batch norm do): batch-norm statistics and bias gradients.
  ;; args: 0 src, 1 rows, 2 cols, 3 dst, 4 acc (f64 per column, zeroed), 5 rows per block,
  ;;       8 scale (f64). Slices own disjoint runs of four columns; slice 0 also the last cols % 4.
  (func (export "column_sums") (param $args i32) (param $slice i32) (param $slices i32)
    (local $src i32) (local $rows i32) (local $cols i32) (local $dst i32) (local $acc i32) (local $block i32)
    (local $scale f64) (local $quads i32) (local $q0 i32) (local $q1 i32) (local $q i32) (local $r0 i32) (local $r1 i32)
    (local $r i32) (local $p i32) (local $stride i32) (local $a i32) (local $c i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $sum f64)
    (local.set $src (i32.load offset=0 (local.get $args)))
    (local.set $rows (i32.load offset=4 (local.get $args)))
    (local.set $cols (i32.load offset=8 (local.get $args)))
    (local.set $dst (i32.load offset=12 (local.get $args)))
    (local.set $acc (i32.load offset=16 (local.get $args)))
    (local.set $block (i32.load offset=20 (local.get $args)))
    (local.set $scale (f64.load offset=24 (local.get $args)))
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $quads (i32.shr_u (local.get $cols) (i32.const 2)))
    (local.set $q0 (i32.div_u (i32.mul (local.get $quads) (local.get $slice)) (local.get $slices)))
    (local.set $q1 (i32.div_u (i32.mul (local.get $quads) (i32.add (local.get $slice) (i32.const 1))) (local.get $slices)))
    (local.set $r0 (i32.const 0))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $block)))
        (if (i32.gt_u (local.get $r1) (local.get $rows)) (then (local.set $r1 (local.get $rows))))
        (local.set $q (local.get $q0))
        (block $quads_done
          (loop $quads_loop
            (br_if $quads_done (i32.ge_u (local.get $q) (local.get $q1)))
            (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $q) (i32.const 5))))
            (local.set $lo (v128.load (local.get $a)))
            (local.set $hi (v128.load offset=16 (local.get $a)))
            (local.set $p (i32.add (local.get $src)
              (i32.add (i32.mul (local.get $r0) (local.get $stride)) (i32.shl (local.get $q) (i32.const 4)))))
            (local.set $r (local.get $r0))
            (loop $rows_loop
              (local.set $v (v128.load (local.get $p)))
              (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
              (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $rows_loop (i32.lt_u (local.get $r) (local.get $r1))))
            (v128.store (local.get $a) (local.get $lo))
            (v128.store offset=16 (local.get $a) (local.get $hi))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $quads_loop)))
        (local.set $r0 (local.get $r1))
        (br $blocks)))
    ;; this slice's columns, scaled and rounded to float32
    (local.set $q (local.get $q0))
    (block $out_done
      (loop $out
        (br_if $out_done (i32.ge_u (local.get $q) (local.get $q1)))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $q) (i32.const 5))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $q) (i32.const 4)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (v128.load (local.get $a)) (f64x2.splat (local.get $scale))))
            (f32x4.demote_f64x2_zero (f64x2.mul (v128.load offset=16 (local.get $a)) (f64x2.splat (local.get $scale))))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $out)))
    ;; the last cols % 4 columns, one at a time, by slice 0
    (if (i32.eqz (local.get $slice))
      (then
        (local.set $c (i32.shl (local.get $quads) (i32.const 2)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $sum (f64.const 0))
            (local.set $p (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $r (local.get $rows))
            (block $tail_rows_done
              (loop $tail_rows
                (br_if $tail_rows_done (i32.eqz (local.get $r)))
                (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.load (local.get $p)))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                (br $tail_rows)))
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
              (f32.demote_f64 (f64.mul (local.get $sum) (local.get $scale))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail))))))

  ;; dx += each pooling window's dy at its first maximum (row-major; padding never wins), one
  ;; image per slice. dx must be zeroed. args: 0 x, 1 dy, 2 dx, 3 n, 4 h, 5 w, 6 c, 7 oh, 8 ow,
  ;; 9 kh, 10 kw, 11 sh, 12 sw, 13 top, 14 left
  (func (export "max_pool_grad") (param $args i32) (param $slice i32) (param $slices i32)
    (local $x i32) (local $dy i32) (local $dx i32) (local $nb i32) (local $h i32) (local $w i32) (local $c i32)
    (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32) (local $sh i32) (local $sw i32)
    (local $top i32) (local $left i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $i i32) (local $j i32) (local $yy i32) (local $xx i32)
    (local $taps i32) (local $count i32) (local $t i32) (local $k i32) (local $o i32) (local $tap i32)
    (local $at i32) (local $lane i32)
    (local $best v128) (local $index v128) (local $v v128) (local $gt v128) (local $offsets v128)
    (local $g f32) (local $bestS f32) (local $vS f32)
    (local.set $x (i32.load offset=0 (local.get $args)))
    (local.set $dy (i32.load offset=4 (local.get $args)))
    (local.set $dx (i32.load offset=8 (local.get $args)))
    (local.set $nb (i32.load offset=12 (local.get $args)))
    (local.set $h (i32.load offset=16 (local.get $args)))
    (local.set $w (i32.load offset=20 (local.get $args)))
    (local.set $c (i32.load offset=24 (local.get $args)))
    (local.set $oh (i32.load offset=28 (local.get $args)))
    (local.set $ow (i32.load offset=32 (local.get $args)))
    (local.set $kh (i32.load offset=36 (local.get $args)))
    (local.set $kw (i32.load offset=40 (local.get $args)))
    (local.set $sh (i32.load offset=44 (local.get $args)))
    (local.set $sw (i32.load offset=48 (local.get $args)))
    (local.set $top (i32.load offset=52 (local.get $args)))
    (local.set $left (i32.load offset=56 (local.get $args)))
    ;; the window's in-bounds taps, as element offsets of their first channel, in row-major order
    (local.set $taps (i32.load offset=60 (local.get $args)))
    (local.set $taps (i32.add (local.get $taps) (i32.shl (i32.mul (local.get $slice) (i32.mul (local.get $kh) (local.get $kw))) (i32.const 2))))
    (local.set $b (local.get $slice))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $oy (i32.const 0))
        (loop $out_rows
          (local.set $ox (i32.const 0))
          (loop $out_cols
            (local.set $count (i32.const 0))
            (local.set $i (i32.const 0))
            (loop $win_rows
              (local.set $yy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $top)) (local.get $i)))
              (if (i32.and (i32.ge_s (local.get $yy) (i32.const 0)) (i32.lt_s (local.get $yy) (local.get $h)))
                (then
                  (local.set $j (i32.const 0))
                  (loop $win_cols
                    (local.set $xx (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $left)) (local.get $j)))
                    (if (i32.and (i32.ge_s (local.get $xx) (i32.const 0)) (i32.lt_s (local.get $xx) (local.get $w)))
                      (then
                        (i32.store (i32.add (local.get $taps) (i32.shl (local.get $count) (i32.const 2)))
                          (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yy)) (local.get $w)) (local.get $xx)) (local.get $c)))
                        (local.set $count (i32.add (local.get $count) (i32.const 1)))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br_if $win_cols (i32.lt_u (local.get $j) (local.get $kw))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $win_rows (i32.lt_u (local.get $i) (local.get $kh))))
            (local.set $o (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $ox)) (local.get $c)))
            (if (local.get $count)
              (then
                ;; four channels at a time
                (local.set $k (i32.const 0))
                (block $quads_done
                  (loop $quads
                    (br_if $quads_done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $c)))
                    (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
                    (local.set $index (v128.const i32x4 -1 -1 -1 -1))
                    (local.set $t (i32.const 0))
                    (loop $window
                      (local.set $tap (i32.add (i32.load (i32.add (local.get $taps) (i32.shl (local.get $t) (i32.const 2)))) (local.get $k)))
                      (local.set $v (v128.load (i32.add (local.get $x) (i32.shl (local.get $tap) (i32.const 2)))))
                      (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))
                      (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))
                      (local.set $offsets (i32x4.add (i32x4.splat (local.get $tap)) (v128.const i32x4 0 1 2 3)))
                      (local.set $index (v128.bitselect (local.get $offsets) (local.get $index) (local.get $gt)))
                      (local.set $t (i32.add (local.get $t) (i32.const 1)))
                      (br_if $window (i32.lt_u (local.get $t) (local.get $count))))
                    (local.set $lane (i32.const 0))
                    (loop $lanes
                      (local.set $at
                        (if (result i32) (i32.eq (local.get $lane) (i32.const 0)) (then (i32x4.extract_lane 0 (local.get $index)))
                          (else (if (result i32) (i32.eq (local.get $lane) (i32.const 1)) (then (i32x4.extract_lane 1 (local.get $index)))
                            (else (if (result i32) (i32.eq (local.get $lane) (i32.const 2)) (then (i32x4.extract_lane 2 (local.get $index)))
                              (else (i32x4.extract_lane 3 (local.get $index)))))))))
                      (if (i32.ge_s (local.get $at) (i32.const 0))
                        (then
                          (local.set $at (i32.add (local.get $dx) (i32.shl (local.get $at) (i32.const 2))))
                          (f32.store (local.get $at) (f32.add (f32.load (local.get $at))
                            (f32.load (i32.add (local.get $dy) (i32.shl (i32.add (i32.add (local.get $o) (local.get $k)) (local.get $lane)) (i32.const 2))))))))
                      (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
                      (br_if $lanes (i32.lt_u (local.get $lane) (i32.const 4))))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $quads)))
                ;; the last c % 4 channels one at a time
                (block $rest_done
                  (loop $rest
                    (br_if $rest_done (i32.ge_u (local.get $k) (local.get $c)))
                    (local.set $bestS (f32.const -inf))
                    (local.set $at (i32.const -1))
                    (local.set $t (i32.const 0))
                    (loop $window1
                      (local.set $tap (i32.add (i32.load (i32.add (local.get $taps) (i32.shl (local.get $t) (i32.const 2)))) (local.get $k)))
                      (local.set $vS (f32.load (i32.add (local.get $x) (i32.shl (local.get $tap) (i32.const 2)))))
                      (if (f32.gt (local.get $vS) (local.get $bestS))
                        (then (local.set $bestS (local.get $vS)) (local.set $at (local.get $tap))))
                      (local.set $t (i32.add (local.get $t) (i32.const 1)))
                      (br_if $window1 (i32.lt_u (local.get $t) (local.get $count))))
                    (if (i32.ge_s (local.get $at) (i32.const 0))
                      (then
                        (local.set $at (i32.add (local.get $dx) (i32.shl (local.get $at) (i32.const 2))))
                        (f32.store (local.get $at) (f32.add (f32.load (local.get $at))
                          (f32.load (i32.add (local.get $dy) (i32.shl (i32.add (local.get $o) (local.get $k)) (i32.const 2))))))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $rest)))))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br_if $out_cols (i32.lt_u (local.get $ox) (local.get $ow))))
          (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
          (br_if $out_rows (i32.lt_u (local.get $oy) (local.get $oh))))
        (local.set $b (i32.add (local.get $b) (local.get $slices)))
        (br $images)))
  )

  ;; out[i] = a[i] op b[i mod p]: a tensor and a vector over its last axis (a bias, a batch-norm
  ;; scale), the vector repeated to p floats (p a multiple of 4). op: 0 add, 1 a - b, 2 b - a, 3 mul.
  ;; args: 0 a, 1 b (p floats), 2 out, 3 floats, 4 p, 5 op. Slices take runs of whole patterns;
  ;; slice 0 also the floats after the last whole pattern.
  (func (export "channel_op") (param $args i32) (param $slice i32) (param $slices i32)
    (local $a i32) (local $b i32) (local $out i32) (local $n i32) (local $p i32) (local $op i32)
    (local $patterns i32) (local $q i32) (local $q1 i32) (local $vectors i32) (local $v i32)
    (local $x i32) (local $y i32) (local $z i32) (local $i i32) (local $end i32)
    (local.set $a (i32.load offset=0 (local.get $args)))
    (local.set $b (i32.load offset=4 (local.get $args)))
    (local.set $out (i32.load offset=8 (local.get $args)))
    (local.set $n (i32.load offset=12 (local.get $args)))
    (local.set $p (i32.load offset=16 (local.get $args)))
    (local.set $op (i32.load offset=20 (local.get $args)))
    (local.set $patterns (i32.div_u (local.get $n) (local.get $p)))
    (local.set $vectors (i32.shr_u (local.get $p) (i32.const 2)))
    (local.set $q (i32.div_u (i32.mul (local.get $patterns) (local.get $slice)) (local.get $slices)))
    (local.set $q1 (i32.div_u (i32.mul (local.get $patterns) (i32.add (local.get $slice) (i32.const 1))) (local.get $slices)))
    (local.set $x (i32.add (local.get $a) (i32.shl (i32.mul (local.get $q) (local.get $p)) (i32.const 2))))
    (local.set $z (i32.add (local.get $out) (i32.shl (i32.mul (local.get $q) (local.get $p)) (i32.const 2))))
    (block $done
      ;; add
      (if (i32.eq (local.get $op) (i32.const 0))
        (then
          (loop $patterns_add
            (br_if $done (i32.ge_u (local.get $q) (local.get $q1)))
            (local.set $y (local.get $b))
            (local.set $v (local.get $vectors))
            (loop $vectors_add
              (v128.store (local.get $z) (f32x4.add (v128.load (local.get $x)) (v128.load (local.get $y))))
              (local.set $x (i32.add (local.get $x) (i32.const 16)))
              (local.set $y (i32.add (local.get $y) (i32.const 16)))
              (local.set $z (i32.add (local.get $z) (i32.const 16)))
              (local.set $v (i32.sub (local.get $v) (i32.const 1)))
              (br_if $vectors_add (local.get $v)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $patterns_add))))
      ;; sub
      (if (i32.eq (local.get $op) (i32.const 1))
        (then
          (loop $patterns_sub
            (br_if $done (i32.ge_u (local.get $q) (local.get $q1)))
            (local.set $y (local.get $b))
            (local.set $v (local.get $vectors))
            (loop $vectors_sub
              (v128.store (local.get $z) (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $y))))
              (local.set $x (i32.add (local.get $x) (i32.const 16)))
              (local.set $y (i32.add (local.get $y) (i32.const 16)))
              (local.set $z (i32.add (local.get $z) (i32.const 16)))
              (local.set $v (i32.sub (local.get $v) (i32.const 1)))
              (br_if $vectors_sub (local.get $v)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $patterns_sub))))
      ;; rsub
      (if (i32.eq (local.get $op) (i32.const 2))
        (then
          (loop $patterns_rsub
            (br_if $done (i32.ge_u (local.get $q) (local.get $q1)))
            (local.set $y (local.get $b))
            (local.set $v (local.get $vectors))
            (loop $vectors_rsub
              (v128.store (local.get $z) (f32x4.sub (v128.load (local.get $y)) (v128.load (local.get $x))))
              (local.set $x (i32.add (local.get $x) (i32.const 16)))
              (local.set $y (i32.add (local.get $y) (i32.const 16)))
              (local.set $z (i32.add (local.get $z) (i32.const 16)))
              (local.set $v (i32.sub (local.get $v) (i32.const 1)))
              (br_if $vectors_rsub (local.get $v)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $patterns_rsub))))
      ;; mul
      (if (i32.eq (local.get $op) (i32.const 3))
        (then
          (loop $patterns_mul
            (br_if $done (i32.ge_u (local.get $q) (local.get $q1)))
            (local.set $y (local.get $b))
            (local.set $v (local.get $vectors))
            (loop $vectors_mul
              (v128.store (local.get $z) (f32x4.mul (v128.load (local.get $x)) (v128.load (local.get $y))))
              (local.set $x (i32.add (local.get $x) (i32.const 16)))
              (local.set $y (i32.add (local.get $y) (i32.const 16)))
              (local.set $z (i32.add (local.get $z) (i32.const 16)))
              (local.set $v (i32.sub (local.get $v) (i32.const 1)))
              (br_if $vectors_mul (local.get $v)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $patterns_mul))))
    )
    ;; the floats after the last whole pattern, one at a time (byte offsets), by slice 0
    (if (i32.eqz (local.get $slice))
      (then
        (local.set $i (i32.shl (i32.mul (local.get $patterns) (local.get $p)) (i32.const 2)))
        (local.set $end (i32.shl (local.get $n) (i32.const 2)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
            (if (i32.eq (local.get $op) (i32.const 0))
              (then (f32.store (i32.add (local.get $out) (local.get $i)) (f32.add (f32.load (i32.add (local.get $a) (local.get $i))) (f32.load (i32.add (local.get $b) (i32.rem_u (local.get $i) (i32.shl (local.get $p) (i32.const 2)))))))))
            (if (i32.eq (local.get $op) (i32.const 1))
              (then (f32.store (i32.add (local.get $out) (local.get $i)) (f32.sub (f32.load (i32.add (local.get $a) (local.get $i))) (f32.load (i32.add (local.get $b) (i32.rem_u (local.get $i) (i32.shl (local.get $p) (i32.const 2)))))))))
            (if (i32.eq (local.get $op) (i32.const 2))
              (then (f32.store (i32.add (local.get $out) (local.get $i)) (f32.sub (f32.load (i32.add (local.get $b) (i32.rem_u (local.get $i) (i32.shl (local.get $p) (i32.const 2))))) (f32.load (i32.add (local.get $a) (local.get $i)))))))
            (if (i32.eq (local.get $op) (i32.const 3))
              (then (f32.store (i32.add (local.get $out) (local.get $i)) (f32.mul (f32.load (i32.add (local.get $a) (local.get $i))) (f32.load (i32.add (local.get $b) (i32.rem_u (local.get $i) (i32.shl (local.get $p) (i32.const 2)))))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail))))))

  ;; dx += dy * scale over each pooling window (windows inside the input; scale 1 / (kh*kw)), one image
  ;; per slice; dx must be zeroed. args: 0 dy, 1 dx, 2 n, 3 h, 4 w, 5 c, 6 oh, 7 ow, 8 kh, 9 kw,
  ;; 10 sh, 11 sw, 12 scale (f32)
  (func (export "avg_pool_grad") (param $args i32) (param $slice i32) (param $slices i32)
    (local $dy i32) (local $dx i32) (local $nb i32) (local $h i32) (local $w i32) (local $c i32)
    (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32) (local $sh i32) (local $sw i32)
    (local $scale v128) (local $scaleS f32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $i i32) (local $j i32) (local $k i32)
    (local $g i32) (local $t i32)
    (local.set $dy (i32.load offset=0 (local.get $args)))
    (local.set $dx (i32.load offset=4 (local.get $args)))
    (local.set $nb (i32.load offset=8 (local.get $args)))
    (local.set $h (i32.load offset=12 (local.get $args)))
    (local.set $w (i32.load offset=16 (local.get $args)))
    (local.set $c (i32.load offset=20 (local.get $args)))
    (local.set $oh (i32.load offset=24 (local.get $args)))
    (local.set $ow (i32.load offset=28 (local.get $args)))
    (local.set $kh (i32.load offset=32 (local.get $args)))
    (local.set $kw (i32.load offset=36 (local.get $args)))
    (local.set $sh (i32.load offset=40 (local.get $args)))
    (local.set $sw (i32.load offset=44 (local.get $args)))
    (local.set $scaleS (f32.load offset=48 (local.get $args)))
    (local.set $scale (f32x4.splat (local.get $scaleS)))
    (local.set $b (local.get $slice))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $oy (i32.const 0))
        (loop $out_rows
          (local.set $ox (i32.const 0))
          (loop $out_cols
            (local.set $g (i32.add (local.get $dy) (i32.shl (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $ox)) (local.get $c)) (i32.const 2))))
            (local.set $i (i32.const 0))
            (loop $win_rows
              (local.set $j (i32.const 0))
              (loop $win_cols
                (local.set $t (i32.add (local.get $dx) (i32.shl (i32.mul (i32.add (i32.mul
                  (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $i)))
                  (local.get $w)) (i32.add (i32.mul (local.get $ox) (local.get $sw)) (local.get $j))) (local.get $c)) (i32.const 2))))
                (local.set $k (i32.const 0))
                (block $vectors_done
                  (loop $vectors
                    (br_if $vectors_done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $c)))
                    (v128.store (i32.add (local.get $t) (i32.shl (local.get $k) (i32.const 2)))
                      (f32x4.add (v128.load (i32.add (local.get $t) (i32.shl (local.get $k) (i32.const 2))))
                        (f32x4.mul (v128.load (i32.add (local.get $g) (i32.shl (local.get $k) (i32.const 2)))) (local.get $scale))))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $vectors)))
                (block $rest_done
                  (loop $rest
                    (br_if $rest_done (i32.ge_u (local.get $k) (local.get $c)))
                    (f32.store (i32.add (local.get $t) (i32.shl (local.get $k) (i32.const 2)))
                      (f32.add (f32.load (i32.add (local.get $t) (i32.shl (local.get $k) (i32.const 2))))
                        (f32.mul (f32.load (i32.add (local.get $g) (i32.shl (local.get $k) (i32.const 2)))) (local.get $scaleS))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $rest)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $win_cols (i32.lt_u (local.get $j) (local.get $kw))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $win_rows (i32.lt_u (local.get $i) (local.get $kh))))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br_if $out_cols (i32.lt_u (local.get $ox) (local.get $ow))))
          (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
          (br_if $out_rows (i32.lt_u (local.get $oy) (local.get $oh))))
        (local.set $b (i32.add (local.get $b) (local.get $slices)))
        (br $images)))
  )
)
