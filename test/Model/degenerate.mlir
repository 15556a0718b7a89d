// baq-run on degenerate models (issue 22, class 2): a clear error and a
// non-zero exit, or the right number; never a crash or a meaningless result.
// The tokenizer is the synthetic export's (320 tokens).
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 1 --no-hessian -q -o %t.mlir --synthetic-tokenizer %t.tok
// RUN: printf 'the cat sat\n' > %t.txt

// An empty vocabulary (tensor<1x0xf32>) is rejected at the signature check;
// it used to pass it and crash in generation (SIGSEGV in the piece lookup).
// RUN: not baq-run %S/Inputs/empty-vocab-forward.mlir --tokenizer %t.tok --steps 3 2>&1 | FileCheck %s --check-prefix=VOCAB0
// RUN: not baq-run %S/Inputs/empty-vocab-forward.mlir --tokenizer %t.tok --perplexity %t.txt 2>&1 | FileCheck %s --check-prefix=VOCAB0
// VOCAB0: empty-vocab-forward.mlir:2:1: error: @forward must be {{.*}} as baq.export_model writes it: its vocabulary V = 0 is too small: baq-run feeds token 1 (BOS), so V must be at least 2
// RUN: not baq-run %S/Inputs/one-token-vocab-forward.mlir --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=VOCAB1
// VOCAB1: one-token-vocab-forward.mlir:2:1: error: @forward must be {{.*}}: its vocabulary V = 1 is too small

// A vocabulary without byte-fallback tokens (4 tokens): a prompt byte that is
// no piece is an error; it used to index the vocabulary out of bounds.
// RUN: %python %S/Inputs/make_tokenizer.py %t.4.tok "<unk>" "<s>" "</s>" "<sp>"
// RUN: not baq-run %S/Inputs/four-token-forward.mlir --tokenizer %t.4.tok --prompt "a" --steps 3 2>&1 | FileCheck %s --check-prefix=BYTE
// BYTE: baq-run: error: the text's byte 0x61 is not in the vocabulary and its byte-fallback token 100 is past the model's vocabulary of 4
// The same model and tokenizer without such bytes run (token 2 is "</s>").
// RUN: baq-run %S/Inputs/four-token-forward.mlir --tokenizer %t.4.tok --prompt " " --steps 4 | FileCheck %s --check-prefix=FOUR
// FOUR: {{^}} </s></s>{{$}}

// Logits of 3e38: the stable log-sum-exp gives the uniform distribution's
// perplexity, the vocabulary size (it printed 1.000000: m + log(sum)
// rounded to m and cancelled against the target's logit).
// RUN: baq-run %S/Inputs/huge-logits-forward.mlir --tokenizer %t.tok --perplexity %t.txt --window-len 4 | FileCheck %s --check-prefix=HUGE
// HUGE: perplexity 320.000000 mean_nll 5.76832100 tokens {{[0-9]+}} windows {{[0-9]+}} window_len 4

// NaN and +Inf logits are errors naming the window and the position (they
// printed "perplexity nan" and exit 0, or generated an arbitrary token).
// RUN: not baq-run %S/Inputs/nan-logits-forward.mlir --tokenizer %t.tok --perplexity %t.txt --window-len 4 2>&1 | FileCheck %s --check-prefix=NAN-PPL
// NAN-PPL: baq-run: error: window 0 (tokens 0..3 of the text), position 0: logit 0 is NaN; the model's output is not a distribution
// RUN: not baq-run %S/Inputs/inf-logit-forward.mlir --tokenizer %t.tok --perplexity %t.txt --window-len 4 2>&1 | FileCheck %s --check-prefix=INF-PPL
// INF-PPL: baq-run: error: window 0 (tokens 0..3 of the text), position 0: logit 5 is +Inf
// RUN: not baq-run %S/Inputs/nan-logits-forward.mlir --tokenizer %t.tok --steps 3 2>&1 | FileCheck %s --check-prefix=NAN-GEN
// NAN-GEN: baq-run: error: generation, position 0: logit 0 is NaN
// RUN: not baq-run %S/Inputs/inf-logit-forward.mlir --tokenizer %t.tok --steps 3 2>&1 | FileCheck %s --check-prefix=INF-GEN
// INF-GEN: baq-run: error: generation, position 0: logit 5 is +Inf

// Counts that are negative are rejected before the compilation (a negative
// --steps was taken as 0, the whole context; --max-windows as all).
// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --steps -1 2>&1 | FileCheck %s --check-prefix=STEPS
// STEPS: baq-run: error: --steps must be >= 0 (0: the whole context), got -1
// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --perplexity %t.txt --max-windows -2 2>&1 | FileCheck %s --check-prefix=WINDOWS
// WINDOWS: baq-run: error: --max-windows must be >= 0 (0: all), got -2
// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --perplexity %t.txt --window-len 1 2>&1 | FileCheck %s --check-prefix=WINLEN
// WINLEN: baq-run: error: --window-len must be at least 2 (and is clipped to the model's context of 4), got 1
// RUN: not baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok -O 4 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: baq-run: error: -O takes 0 to 3, got 4
// A huge --steps is clipped to the context of 4.
// RUN: baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --steps 9223372036854775807 | FileCheck %s --check-prefix=HUGE-STEPS
// HUGE-STEPS: {{^}}<unk><unk><unk><unk>{{$}}
// An empty prompt is BOS alone.
// RUN: baq-run %S/Inputs/tiny-forward.mlir --tokenizer %t.tok --prompt "" --steps 2 | FileCheck %s --check-prefix=EMPTY
// EMPTY: {{^}}<unk><unk>{{$}}
