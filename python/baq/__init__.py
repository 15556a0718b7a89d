"""BAQ Python package: llama2.c model I/O, calibration export to MLIR, packed-format reader,
perplexity evaluation and report plots for the BAQ quantization compiler.

Modules:
  llama2c  - llama2.c legacy checkpoint + tokenizer reader, numpy forward pass, perplexity
  mlir     - tiny text-MLIR writer/reader helpers (dense_resource blobs)
  export   - baq-export: calibration Hessians + model.mlir
  quantize - baq-quantize: block-by-block (sequential) calibration + baq-opt quantization
  packed   - independent reader of the packed weight format (docs/FORMAT.md)
  eval     - baq-eval: perplexity and honest bits of a (quantized) model.mlir, sweeps
  report   - baq-report: PNG plots from the pass report and sweep JSON
  results  - baq-results: docs/RESULTS.md from a method x calibration x bits x seed matrix
"""

__version__ = "0.1.0"
