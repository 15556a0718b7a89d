//===- Safetensors.cpp - Reading safetensors files ------------------------===//

#include "baq/Dialect/Baq/Transforms/Safetensors.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <limits>
#include <optional>

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

namespace {
/// A key of a JSON object in the header, as written (quotes and escapes
/// included).
struct ScannedKey {
  /// The enclosing object's index, in opening order (the root is 0).
  size_t object;
  llvm::StringRef token;
  /// Byte offset of the opening quote in the header.
  size_t offset;
};

/// What the scan of the raw header text finds: llvm::json::parse recurses
/// once per nesting level and keeps the last of duplicate keys silently, so
/// both are found here, on the tokens, without parsing.
struct HeaderScan {
  std::vector<ScannedKey> keys;
  /// For each object, the key whose value it is (empty if none).
  std::vector<llvm::StringRef> objectKeys;
  /// Byte offset of the first bracket past kSafetensorsMaxHeaderDepth.
  std::optional<size_t> tooDeepAt;
};
} // namespace

/// Strings, brackets and commas only: the text is parsed by llvm::json::parse
/// afterwards, so malformed JSON only needs to stop the scan, not be named.
static HeaderScan scanHeader(llvm::StringRef text) {
  HeaderScan scan;
  // The open containers: an object's index, or -1 for an array.
  llvm::SmallVector<int64_t, kSafetensorsMaxHeaderDepth> open;
  bool expectKey = false;
  llvm::StringRef lastKey;
  for (size_t i = 0; i < text.size(); ++i) {
    switch (char c = text[i]) {
    case '{':
    case '[':
      if (open.size() == kSafetensorsMaxHeaderDepth) {
        scan.tooDeepAt = i;
        return scan;
      }
      if (c == '[') {
        open.push_back(-1);
        expectKey = false;
        break;
      }
      scan.objectKeys.push_back(
          !open.empty() && open.back() >= 0 ? lastKey : llvm::StringRef());
      open.push_back(scan.objectKeys.size() - 1);
      expectKey = true;
      break;
    case '}':
    case ']':
      if (!open.empty())
        open.pop_back();
      expectKey = false;
      break;
    case ',':
      expectKey = !open.empty() && open.back() >= 0;
      break;
    case '"': {
      size_t end = i + 1;
      while (end < text.size() && text[end] != '"')
        end += text[end] == '\\' ? 2 : 1;
      if (end >= text.size())
        return scan; // Unterminated: the parser reports it.
      llvm::StringRef token = text.slice(i, end + 1);
      if (expectKey && !open.empty() && open.back() >= 0) {
        scan.keys.push_back({size_t(open.back()), token, i});
        lastKey = token;
      }
      expectKey = false;
      i = end;
      break;
    }
    default: // Whitespace, ':', numbers, literals.
      break;
    }
  }
  return scan;
}

/// The value of a JSON string token of a header that parsed.
static std::string decodeKey(llvm::StringRef token) {
  if (token.size() < 2)
    return token.str();
  if (!token.contains('\\'))
    return token.drop_front().drop_back().str();
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(token);
  if (!value) {
    llvm::consumeError(value.takeError());
    return token.str();
  }
  return value->getAsString().value_or(token).str();
}

static std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  llvm::interleaveComma(shape, os);
  os << ']';
  return text;
}

llvm::Expected<SafetensorsFile>
mlir::baq::readSafetensors(llvm::StringRef path, uint64_t maxHeaderSize) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot read '" + path + "': " + buffer.getError().message());
  return parseSafetensors(std::move(*buffer), maxHeaderSize);
}

llvm::Expected<SafetensorsFile>
mlir::baq::parseSafetensors(std::unique_ptr<llvm::MemoryBuffer> buffer,
                            uint64_t maxHeaderSize) {
  SafetensorsFile file;
  file.buffer = std::move(buffer);
  llvm::StringRef data = file.buffer->getBuffer();
  if (data.size() < 8)
    return fail(llvm::formatv("file is {0} bytes, shorter than the 8-byte "
                              "header size",
                              data.size()));
  uint64_t headerSize = llvm::support::endian::read64le(data.data());
  // The size field is the first thing an attacker controls: bounded before
  // anything is read, then checked against the file.
  if (headerSize > maxHeaderSize)
    return fail(llvm::formatv("not a valid safetensors header: header size "
                              "{0} exceeds the limit of {1} bytes",
                              headerSize, maxHeaderSize));
  if (headerSize > data.size() - 8)
    return fail(llvm::formatv("header size {0} exceeds the {1} bytes after "
                              "it (truncated file?)",
                              headerSize, data.size() - 8));
  llvm::StringRef headerText = data.substr(8, headerSize);
  HeaderScan scan = scanHeader(headerText);
  if (scan.tooDeepAt)
    return fail(llvm::formatv("not a valid safetensors header: JSON nested "
                              "deeper than {0} levels at byte {1}",
                              kSafetensorsMaxHeaderDepth, 8 + *scan.tooDeepAt));
  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return fail("not a valid safetensors header: not valid JSON: " +
                llvm::toString(header.takeError()));
  const llvm::json::Object *root = header->getAsObject();
  if (!root)
    return fail("not a valid safetensors header: not a JSON object");

  // Duplicate keys, in any object; the root's key offsets for diagnostics.
  std::vector<llvm::StringMap<uint64_t>> seen(scan.objectKeys.size());
  for (const ScannedKey &key : scan.keys) {
    std::string name = decodeKey(key.token);
    uint64_t offset = 8 + key.offset + 1;
    auto [it, inserted] = seen[key.object].try_emplace(name, offset);
    if (inserted)
      continue;
    if (key.object == 0)
      return fail(llvm::formatv("not a valid safetensors header: duplicate "
                                "tensor '{0}' (keys at bytes {1} and {2})",
                                name, it->second, offset));
    llvm::StringRef parent = scan.objectKeys[key.object];
    return fail(llvm::formatv(
        "not a valid safetensors header: duplicate key "
        "'{0}' in {1} (keys at bytes {2} and {3})",
        name, parent.empty() ? "an object" : "'" + decodeKey(parent) + "'",
        it->second, offset));
  }

  uint64_t dataStart = 8 + headerSize;
  uint64_t dataSize = data.size() - dataStart;
  for (const auto &[objectKey, value] : *root) {
    llvm::StringRef key = objectKey;
    if (key == "__metadata__") {
      const llvm::json::Object *metadata = value.getAsObject();
      if (!metadata ||
          llvm::any_of(*metadata, [](const llvm::json::Object::value_type &kv) {
            return !kv.second.getAsString();
          }))
        return fail("not a valid safetensors header: '__metadata__' must map "
                    "strings to strings");
      for (const auto &[name, text] : *metadata)
        file.metadata[name] = text.getAsString()->str();
      continue;
    }
    SafetensorsEntry entry;
    entry.name = key.str();
    if (!seen.empty())
      entry.keyOffset = seen[0].lookup(key);
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
    // Unsigned integers as written: getAsInteger would also take 2.0, and
    // converts 2^63 written as a double to int64_t out of range (undefined
    // behaviour).
    for (auto [i, dim] : llvm::enumerate(*shape)) {
      std::optional<uint64_t> d = dim.getAsUINT64();
      if (!d || *d > uint64_t(std::numeric_limits<int64_t>::max()))
        return fail(llvm::formatv("tensor '{0}' has an invalid shape: "
                                  "dimension {1} is not a non-negative "
                                  "integer",
                                  key, i));
      entry.shape.push_back(int64_t(*d));
    }
    // The byte count must fit in int64_t ("too large" otherwise, never a
    // wrapped count); a zero dimension makes the tensor empty, whatever the
    // other dimensions.
    int64_t width = getDtypeSize(entry.dtype);
    int64_t elements = 1, bytes = 0;
    bool tooLarge = false;
    if (llvm::is_contained(entry.shape, 0))
      elements = 0;
    else
      for (int64_t d : entry.shape)
        tooLarge |= llvm::MulOverflow(elements, d, elements);
    if (tooLarge || llvm::MulOverflow(elements, width, bytes))
      return fail(llvm::formatv("tensor '{0}' has shape {1}: too large (its "
                                "byte count does not fit in 64 bits)",
                                key, formatShape(entry.shape)));
    std::optional<uint64_t> begin = (*offsets)[0].getAsUINT64();
    std::optional<uint64_t> end = (*offsets)[1].getAsUINT64();
    if (!begin || !end)
      return fail(llvm::formatv("tensor '{0}' has data_offsets that are not "
                                "two non-negative integers",
                                key));
    if (*begin > *end)
      return fail(llvm::formatv("tensor '{0}' has data_offsets [{1}, {2}] "
                                "that begin after they end",
                                key, *begin, *end));
    if (*end > dataSize)
      return fail(llvm::formatv(
          "tensor '{0}' has data_offsets outside the {1} data bytes of the "
          "file (truncated file?)",
          key, dataSize));
    entry.begin = dataStart + *begin;
    entry.end = dataStart + *end;
    if (width && uint64_t(bytes) != entry.end - entry.begin)
      return fail(llvm::formatv("tensor '{0}' holds {1} bytes, but its shape "
                                "and dtype {2} need {3}",
                                key, entry.end - entry.begin, entry.dtype,
                                bytes));
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
