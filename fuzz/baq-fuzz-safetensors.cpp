//===- baq-fuzz-safetensors.cpp - libFuzzer target for safetensors --------===//
//
// Feeds each input, as the bytes of a safetensors file, to parseSafetensors
// (the reader of --baq-attach-hessians, whose file is untrusted) in a buffer
// of exactly the input's size, so that ASan reports any read past the file,
// and reads every F32/F16/BF16 entry as floats. The reader's promises are
// checked on what it accepts (a __builtin_trap otherwise): each entry's bytes
// lie after the header and inside the file, and hold exactly the elements
// its shape says. A rejection is the expected outcome for bad input; a
// finding is a crash, a sanitizer report, a timeout or a broken promise.
//
// Built by scripts/fuzz.sh (fuzz/CMakeLists.txt, BAQ_ENABLE_FUZZER=ON), seeds
// in fuzz/corpus-safetensors (written by fuzz/make-safetensors-corpus.py).
//
//===----------------------------------------------------------------------===//

#include "baq/Dialect/Baq/Transforms/Safetensors.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

using namespace mlir::baq;

/// BAQ_FUZZ_VERBOSE=1 prints why each input was rejected.
static const bool verbose = std::getenv("BAQ_FUZZ_VERBOSE") != nullptr;

static void check(bool promise, const char *what) {
  if (promise)
    return;
  llvm::errs() << "baq-fuzz-safetensors: broken promise: " << what << "\n";
  __builtin_trap();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // No copy and no NUL terminator: the fuzzer's buffer is exactly `size`.
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  llvm::Expected<SafetensorsFile> file =
      parseSafetensors(llvm::MemoryBuffer::getMemBuffer(
          bytes, "fuzz-input", /*RequiresNullTerminator=*/false));
  if (!file) {
    std::string message = llvm::toString(file.takeError());
    if (verbose)
      llvm::errs() << "rejected: " << message << "\n";
    return 0;
  }
  check(size >= 8, "a file shorter than the size field was accepted");
  uint64_t dataStart = 8 + llvm::support::endian::read64le(data);
  check(dataStart <= size, "the header ends past the file");
  for (const SafetensorsEntry &entry : file->entries) {
    check(dataStart <= entry.begin && entry.begin <= entry.end &&
              entry.end <= size,
          "an entry's bytes lie outside the data region");
    check(entry.keyOffset >= 8 && entry.keyOffset < dataStart,
          "an entry's key offset lies outside the header");
    llvm::Expected<std::vector<float>> values =
        readSafetensorsFloats(*file, entry);
    if (!values) {
      llvm::consumeError(values.takeError());
      continue;
    }
    uint64_t elements = 1;
    for (int64_t d : entry.shape)
      elements *= uint64_t(d); // Checked by the reader not to overflow.
    check(values->size() == elements,
          "the floats read differ from the shape's element count");
  }
  return 0;
}
