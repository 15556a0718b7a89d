//===- Safetensors.cpp - Reading safetensors files ------------------------===//

#include "baq/Dialect/Baq/Transforms/Safetensors.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace mlir::baq;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Bytes per element of the dtypes safetensors defines; 0 if unknown.
static int64_t getDtypeSize(llvm::StringRef dtype) {
  return llvm::StringSwitch<int64_t>(dtype)
      .Cases({"F64", "I64", "U64"}, 8)
      .Cases({"F32", "I32", "U32"}, 4)
      .Cases({"F16", "BF16", "I16", "U16"}, 2)
      .Cases({"I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2"}, 1)
      .Default(0);
}

llvm::Expected<SafetensorsFile>
mlir::baq::readSafetensors(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot read '" + path + "': " + buffer.getError().message());
  SafetensorsFile file;
  file.buffer = std::move(*buffer);
  llvm::StringRef data = file.buffer->getBuffer();
  if (data.size() < 8)
    return fail(llvm::formatv("file is {0} bytes, shorter than the 8-byte "
                              "header size",
                              data.size()));
  uint64_t headerSize = llvm::support::endian::read64le(data.data());
  if (headerSize > data.size() - 8)
    return fail(llvm::formatv("header size {0} exceeds the {1} bytes after "
                              "it (truncated file?)",
                              headerSize, data.size() - 8));
  llvm::StringRef headerText = data.substr(8, headerSize);
  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return fail("header is not valid JSON: " +
                llvm::toString(header.takeError()));
  const llvm::json::Object *root = header->getAsObject();
  if (!root)
    return fail("header is not a JSON object");
  uint64_t dataStart = 8 + headerSize;
  uint64_t dataSize = data.size() - dataStart;
  for (const auto &[objectKey, value] : *root) {
    llvm::StringRef key = objectKey;
    if (key == "__metadata__")
      continue;
    SafetensorsEntry entry;
    entry.name = key.str();
    size_t at = headerText.find(("\"" + key.str() + "\"").c_str());
    entry.keyOffset = 8 + (at == llvm::StringRef::npos ? 0 : at + 1);
    const llvm::json::Object *object = value.getAsObject();
    std::optional<llvm::StringRef> dtype =
        object ? object->getString("dtype") : std::nullopt;
    const llvm::json::Array *shape =
        object ? object->getArray("shape") : nullptr;
    const llvm::json::Array *offsets =
        object ? object->getArray("data_offsets") : nullptr;
    if (!dtype || !shape || !offsets || offsets->size() != 2)
      return fail(llvm::Twine("tensor '") + key +
                  "' needs a string 'dtype', an array 'shape' and a "
                  "two-element 'data_offsets'");
    entry.dtype = dtype->str();
    int64_t elements = 1;
    for (const llvm::json::Value &dim : *shape) {
      std::optional<int64_t> d = dim.getAsInteger();
      if (!d || *d < 0 || llvm::MulOverflow(elements, *d, elements))
        return fail(llvm::Twine("tensor '") + key + "' has an invalid shape");
      entry.shape.push_back(*d);
    }
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin ||
        uint64_t(*end) > dataSize)
      return fail(llvm::formatv(
          "tensor '{0}' has data_offsets outside the {1} data bytes of the "
          "file (truncated file?)",
          key, dataSize));
    entry.begin = dataStart + *begin;
    entry.end = dataStart + *end;
    int64_t width = getDtypeSize(entry.dtype);
    int64_t bytes;
    if (width && (llvm::MulOverflow(elements, width, bytes) ||
                  uint64_t(bytes) != entry.end - entry.begin))
      return fail(llvm::formatv("tensor '{0}' holds {1} bytes, but its shape "
                                "and dtype {2} need {3}",
                                key, entry.end - entry.begin, entry.dtype,
                                elements * width));
    file.entries.push_back(std::move(entry));
  }
  // json::Object iterates in hash order: report in file order.
  llvm::sort(file.entries,
             [](const SafetensorsEntry &a, const SafetensorsEntry &b) {
               return a.keyOffset < b.keyOffset;
             });
  return file;
}

llvm::Expected<std::vector<float>>
mlir::baq::readSafetensorsFloats(const SafetensorsFile &file,
                                 const SafetensorsEntry &entry) {
  llvm::StringRef bytes =
      file.buffer->getBuffer().slice(entry.begin, entry.end);
  if (entry.dtype == "F32") {
    std::vector<float> out(bytes.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
      uint32_t bits = llvm::support::endian::read32le(bytes.data() + 4 * i);
      std::memcpy(&out[i], &bits, 4);
    }
    return out;
  }
  if (entry.dtype != "F16" && entry.dtype != "BF16")
    return fail(llvm::Twine("tensor '") + entry.name + "' has dtype " +
                entry.dtype + "; expected F32, F16 or BF16");
  const llvm::fltSemantics &semantics = entry.dtype == "F16"
                                            ? llvm::APFloat::IEEEhalf()
                                            : llvm::APFloat::BFloat();
  std::vector<float> out(bytes.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t bits = llvm::support::endian::read16le(bytes.data() + 2 * i);
    out[i] = llvm::APFloat(semantics, llvm::APInt(16, bits)).convertToFloat();
  }
  return out;
}
