//===- Safetensors.h - Reading safetensors files ---------------*- C++ -*-===//
//
// The tensor archive Hugging Face and IREE parameter files use: an 8-byte
// little-endian header size, a JSON header {name: {dtype, shape,
// data_offsets: [begin, end]}} and the raw little-endian data. The file is
// untrusted: the header's size and nesting are bounded before it is parsed,
// and every claim of the header is checked against the file before any
// tensor is read.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_DIALECT_BAQ_TRANSFORMS_SAFETENSORS_H
#define BAQ_DIALECT_BAQ_TRANSFORMS_SAFETENSORS_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace baq {

/// The largest header accepted (the reference implementation's limit).
inline constexpr uint64_t kSafetensorsMaxHeaderSize = 100'000'000;
/// The deepest JSON nesting accepted: {name: {"shape": [...]}} is 3 levels.
/// llvm::json::parse recurses once per level, so a deeper header could
/// overflow the stack before it is rejected.
inline constexpr unsigned kSafetensorsMaxHeaderDepth = 3;

struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  llvm::SmallVector<int64_t> shape;
  /// Byte range of the data, relative to the start of the file.
  uint64_t begin = 0, end = 0;
  /// Byte offset of the entry's key in the file (for diagnostics).
  uint64_t keyOffset = 0;
};

struct SafetensorsFile {
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  /// Entries in header order (`__metadata__` excluded).
  std::vector<SafetensorsEntry> entries;
  /// The `__metadata__` strings.
  llvm::StringMap<std::string> metadata;
};

/// Reads and validates the header of `path`: its size and nesting, unique
/// keys, offsets inside the file, data size = elements x dtype size for the
/// dtypes it knows. `maxHeaderSize` is a parameter for tests only.
llvm::Expected<SafetensorsFile>
readSafetensors(llvm::StringRef path,
                uint64_t maxHeaderSize = kSafetensorsMaxHeaderSize);

/// As readSafetensors, on a file already in memory (the fuzzer's entry).
llvm::Expected<SafetensorsFile>
parseSafetensors(std::unique_ptr<llvm::MemoryBuffer> buffer,
                 uint64_t maxHeaderSize = kSafetensorsMaxHeaderSize);

/// The entry's values as floats; F32, F16 and BF16 only.
llvm::Expected<std::vector<float>>
readSafetensorsFloats(const SafetensorsFile &file,
                      const SafetensorsEntry &entry);

} // namespace baq
} // namespace mlir

#endif // BAQ_DIALECT_BAQ_TRANSFORMS_SAFETENSORS_H
