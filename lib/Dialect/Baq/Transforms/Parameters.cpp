//===- Parameters.cpp - Packed weights in a parameter file ----------------===//
//
// The parameter file (docs/FORMAT.md "Parameter file") and the passes that
// move packed weights into it (baq-externalize-params) and back
// (baq-inline-params).
//
//===----------------------------------------------------------------------===//

#include "baq/Dialect/Baq/Transforms/Parameters.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQEXTERNALIZEPARAMS
#define GEN_PASS_DEF_BAQINLINEPARAMS
#include "baq/Dialect/Baq/Transforms/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// Names, dtypes and layouts
//===----------------------------------------------------------------------===//

StringRef mlir::baq::getPackedPartName(PackedPart part) {
  switch (part) {
  case PackedPart::Payload:
    return "payload";
  case PackedPart::Scales:
    return "scales";
  case PackedPart::Zeros:
    return "zeros";
  }
  llvm_unreachable("unknown packed part");
}

std::string mlir::baq::getParameterTensorName(StringRef key, PackedPart part) {
  return (key + "." + getPackedPartName(part)).str();
}

std::string mlir::baq::getParameterSymbol(StringRef key, PackedPart part) {
  std::string symbol = "__baq_param_";
  llvm::raw_string_ostream os(symbol);
  for (char c : getParameterTensorName(key, part)) {
    if (llvm::isAlnum(c) || c == '.')
      os << c;
    else if (c == '_')
      os << "__";
    else
      os << '_' << llvm::format_hex_no_prefix(static_cast<uint8_t>(c), 2);
  }
  return symbol;
}

StringRef mlir::baq::getParameterDtype(Type type) {
  if (type.isF32())
    return "F32";
  if (type.isF16())
    return "F16";
  if (type.isBF16())
    return "BF16";
  if (type.isSignlessInteger(32))
    return "I32";
  if (type.isSignlessInteger(8))
    return "U8";
  return "";
}

RankedTensorType mlir::baq::getPackedPartType(PackedLayoutAttr layout,
                                              PackedPart part) {
  switch (part) {
  case PackedPart::Payload:
    return layout.getPayloadType();
  case PackedPart::Scales:
    return layout.getScalesType();
  case PackedPart::Zeros:
    return layout.getZerosType();
  }
  llvm_unreachable("unknown packed part");
}

static std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  type.print(os);
  return name;
}

static Type parseTypeName(MLIRContext *context, StringRef name) {
  Builder b(context);
  return llvm::StringSwitch<Type>(name)
      .Case("f16", b.getF16Type())
      .Case("bf16", b.getBF16Type())
      .Case("f32", b.getF32Type())
      .Case("i8", b.getI8Type())
      .Default(Type());
}

llvm::json::Object mlir::baq::layoutToJson(PackedLayoutAttr layout) {
  llvm::json::Array bits;
  for (int8_t b : layout.getBits())
    bits.push_back(int64_t(b));
  llvm::json::Object parts;
  for (PackedPart part : kPackedParts) {
    RankedTensorType type = getPackedPartType(layout, part);
    parts[getPackedPartName(part)] =
        llvm::json::Object{{"dtype", getParameterDtype(type.getElementType())},
                           {"shape", llvm::json::Array(type.getShape())}};
  }
  return llvm::json::Object{{"outputs", layout.getOutputs()},
                            {"inputs", layout.getInputs()},
                            {"channel_dim", layout.getChannelDim()},
                            {"group_size", layout.getGroupSize()},
                            {"scale_type", typeName(layout.getScaleType())},
                            {"zero_type", typeName(layout.getZeroType())},
                            {"bits", std::move(bits)},
                            {"parts", std::move(parts)}};
}

llvm::Expected<PackedLayoutAttr>
mlir::baq::layoutFromJson(MLIRContext *context, const llvm::json::Value &json) {
  const llvm::json::Object *object = json.getAsObject();
  if (!object)
    return fail("the layout is not a JSON object");
  auto integer = [&](StringRef field) -> llvm::Expected<int64_t> {
    std::optional<int64_t> value = object->getInteger(field);
    if (!value)
      return fail("the layout has no integer '" + field + "'");
    return *value;
  };
  llvm::Expected<int64_t> outputs = integer("outputs");
  if (!outputs)
    return outputs.takeError();
  llvm::Expected<int64_t> inputs = integer("inputs");
  if (!inputs)
    return inputs.takeError();
  llvm::Expected<int64_t> channelDim = integer("channel_dim");
  if (!channelDim)
    return channelDim.takeError();
  llvm::Expected<int64_t> groupSize = integer("group_size");
  if (!groupSize)
    return groupSize.takeError();
  const llvm::json::Array *bitsArray = object->getArray("bits");
  if (!bitsArray)
    return fail("the layout has no array 'bits'");
  // Bounded before the layout is computed: the payload size in bits must
  // fit in 64 bits.
  if (*outputs <= 0 || *inputs <= 0 ||
      *outputs > std::numeric_limits<int64_t>::max() / 8 / *inputs)
    return fail(llvm::formatv("the layout's outputs {0} and inputs {1} must "
                              "be positive and small enough",
                              *outputs, *inputs));
  if (*channelDim != 0 && *channelDim != 1)
    return fail(llvm::formatv("the layout's channel_dim must be 0 or 1, got "
                              "{0}",
                              *channelDim));
  if (*groupSize < 0)
    return fail("the layout's group_size must be non-negative");
  if (int64_t(bitsArray->size()) != *inputs)
    return fail(llvm::formatv("the layout has {0} bitwidths for {1} inputs",
                              bitsArray->size(), *inputs));
  SmallVector<int8_t> bits;
  for (const llvm::json::Value &b : *bitsArray) {
    std::optional<int64_t> v = b.getAsInteger();
    if (!v || *v < 0 || *v > 8)
      return fail("the layout's bits must be integers in [0, 8]");
    bits.push_back(int8_t(*v));
  }
  std::optional<StringRef> scaleName = object->getString("scale_type");
  std::optional<StringRef> zeroName = object->getString("zero_type");
  Type scaleType = scaleName ? parseTypeName(context, *scaleName) : Type();
  Type zeroType = zeroName ? parseTypeName(context, *zeroName) : Type();
  if (!scaleType || (scaleType.isInteger() && !scaleType.isSignlessInteger(8)))
    return fail("the layout's scale_type must be f16, bf16, f32 or i8");
  if (!zeroType)
    return fail("the layout's zero_type must be f16, bf16, f32 or i8");
  auto layout = PackedLayoutAttr::get(context, *outputs, *channelDim, bits,
                                      *groupSize, scaleType, zeroType);
  // The recorded part types must be the ones the layout implies.
  const llvm::json::Object *parts = object->getObject("parts");
  if (!parts)
    return fail("the layout has no object 'parts'");
  for (PackedPart part : kPackedParts) {
    RankedTensorType type = getPackedPartType(layout, part);
    const llvm::json::Object *entry = parts->getObject(getPackedPartName(part));
    std::optional<StringRef> dtype =
        entry ? entry->getString("dtype") : std::nullopt;
    const llvm::json::Array *shape = entry ? entry->getArray("shape") : nullptr;
    if (!dtype || !shape ||
        *dtype != getParameterDtype(type.getElementType()) ||
        *shape != llvm::json::Array(type.getShape()))
      return fail("the layout's parts." + getPackedPartName(part) +
                  " is not the dtype and shape its bits imply");
  }
  return layout;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

llvm::Expected<ParameterTensor>
mlir::baq::getParameterTensor(StringRef name, ElementsAttr elements) {
  auto type = cast<ShapedType>(elements.getType());
  ParameterTensor tensor;
  tensor.name = name.str();
  tensor.dtype = getParameterDtype(type.getElementType());
  tensor.shape.assign(type.getShape().begin(), type.getShape().end());
  if (tensor.dtype.empty())
    return fail("tensor '" + name +
                "' has an element type no parameter "
                "file holds");
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(elements)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return fail("tensor '" + name + "': resource '" +
                  resource.getRawHandle().getKey() + "' has no data");
    tensor.bytes = blob->getData();
    return tensor;
  }
  if (auto dense = dyn_cast<DenseIntOrFPElementsAttr>(elements)) {
    tensor.bytes = dense.getRawData();
    if (dense.isSplat())
      tensor.repeat = type.getNumElements();
    return tensor;
  }
  return fail("tensor '" + name +
              "' is neither a dense nor a dense_resource constant");
}

/// The header: every tensor's dtype, shape and data offsets (64-byte
/// aligned), then `__metadata__`, padded with spaces so that the data
/// starts 64-byte aligned (the format allows trailing whitespace).
static std::string
buildHeader(ArrayRef<ParameterTensor> tensors,
            ArrayRef<std::pair<std::string, std::string>> metadata,
            SmallVectorImpl<uint64_t> &offsets) {
  std::string header;
  llvm::raw_string_ostream os(header);
  llvm::json::OStream json(os);
  uint64_t offset = 0;
  json.object([&] {
    for (const ParameterTensor &t : tensors) {
      offset = llvm::alignTo(offset, kParameterAlignment);
      uint64_t end = offset + t.bytes.size() * t.repeat;
      offsets.push_back(offset);
      json.attributeObject(t.name, [&] {
        json.attribute("dtype", t.dtype);
        json.attributeArray("shape", [&] {
          for (int64_t d : t.shape)
            json.value(d);
        });
        json.attributeArray("data_offsets", [&] {
          json.value(offset);
          json.value(end);
        });
      });
      offset = end;
    }
    json.attributeObject("__metadata__", [&] {
      for (const auto &[name, value] : metadata)
        json.attribute(name, value);
    });
  });
  header.resize(llvm::alignTo(8 + header.size(), kParameterAlignment) - 8, ' ');
  return header;
}

llvm::Error mlir::baq::writeParameterFile(
    StringRef path, ArrayRef<ParameterTensor> tensors,
    ArrayRef<std::pair<std::string, std::string>> metadata) {
  SmallVector<uint64_t> offsets;
  std::string header = buildHeader(tensors, metadata, offsets);
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + "-%%%%%%.tmp");
  if (!temp)
    return fail("cannot write '" + path +
                "': " + llvm::toString(temp.takeError()));
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    char size[8];
    llvm::support::endian::write64le(size, header.size());
    os.write(size, 8);
    os << header;
    uint64_t at = 0;
    for (auto [tensor, offset] : llvm::zip(tensors, offsets)) {
      os.write_zeros(offset - at);
      // An empty blob's data() may be null.
      if (!tensor.bytes.empty())
        for (uint64_t i = 0; i < tensor.repeat; ++i)
          os.write(tensor.bytes.data(), tensor.bytes.size());
      at = offset + tensor.bytes.size() * tensor.repeat;
    }
    os.flush();
    if (os.has_error()) {
      std::error_code error = os.error();
      os.clear_error();
      llvm::consumeError(temp->discard());
      return fail("cannot write '" + path + "': " + error.message());
    }
  }
  if (llvm::Error error = temp->keep(path))
    return fail("cannot write '" + path +
                "': " + llvm::toString(std::move(error)));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os);
  os << ']';
  return text;
}

llvm::Error mlir::baq::checkParameterEntry(const SafetensorsEntry &entry,
                                           PackedLayoutAttr layout,
                                           PackedPart part,
                                           bool checkAlignment) {
  RankedTensorType type = getPackedPartType(layout, part);
  StringRef dtype = getParameterDtype(type.getElementType());
  if (entry.dtype != dtype || ArrayRef(entry.shape) != type.getShape())
    return fail(llvm::formatv("tensor '{0}' is {1} {2}, but the layout needs "
                              "{3} {4}",
                              entry.name, entry.dtype, formatShape(entry.shape),
                              dtype, formatShape(type.getShape())));
  if (checkAlignment && entry.begin % kParameterAlignment)
    return fail(llvm::formatv("tensor '{0}' starts at byte {1} of the file, "
                              "not {2}-byte aligned",
                              entry.name, entry.begin, kParameterAlignment));
  return llvm::Error::success();
}

llvm::Error mlir::baq::checkParameterFormat(const SafetensorsFile &file) {
  auto format = file.metadata.find(kParameterFormatKey);
  if (format == file.metadata.end() ||
      format->second != kParameterFormatVersion)
    return fail(llvm::formatv("not a BAQ parameter file (metadata '{0}' is "
                              "not \"{1}\")",
                              kParameterFormatKey, kParameterFormatVersion));
  return llvm::Error::success();
}

llvm::Expected<std::array<const SafetensorsEntry *, 3>>
mlir::baq::findParameter(
    const SafetensorsFile &file,
    const llvm::StringMap<const SafetensorsEntry *> &entries, StringRef key,
    PackedLayoutAttr layout, bool checkAlignment) {
  std::string layoutKey = (kParameterLayoutPrefix + key).str();
  auto text = file.metadata.find(layoutKey);
  if (text == file.metadata.end())
    return fail("the file has no layout for it (metadata '" + layoutKey + "')");
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(text->second);
  if (!json)
    return fail("its layout is not valid JSON: " +
                llvm::toString(json.takeError()));
  llvm::Expected<PackedLayoutAttr> stored =
      layoutFromJson(layout.getContext(), *json);
  if (!stored)
    return stored.takeError();
  if (*stored != layout)
    return fail("the file's layout differs from the module's");
  std::array<const SafetensorsEntry *, 3> found;
  for (PackedPart part : kPackedParts) {
    std::string name = getParameterTensorName(key, part);
    const SafetensorsEntry *entry = entries.lookup(name);
    if (!entry)
      return fail("the file has no tensor '" + name + "'");
    if (llvm::Error error =
            checkParameterEntry(*entry, layout, part, checkAlignment))
      return std::move(error);
    found[static_cast<unsigned>(part)] = entry;
  }
  return found;
}

//===----------------------------------------------------------------------===//
// baq-externalize-params
//===----------------------------------------------------------------------===//

/// The name a packed constant's parts were made under: the `<name>` of
/// blobs `<name>_payload`, `<name>_scales`, `<name>_zeros` (what
/// --baq-allocate writes), else the op's NameLoc, else "weight".
static std::string getWeightName(PackedConstantOp op) {
  auto key = [](Attribute value) -> StringRef {
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
      return resource.getRawHandle().getKey();
    return "";
  };
  StringRef payload = key(op.getPayload());
  if (payload.consume_back("_payload") && !payload.empty() &&
      key(op.getScales()) == (payload + "_scales").str() &&
      key(op.getZeros()) == (payload + "_zeros").str())
    return payload.str();
  std::string name;
  op.getLoc()->walk([&](Location loc) {
    if (auto named = dyn_cast<NameLoc>(loc)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name.empty() ? "weight" : name;
}

namespace {

struct BaqExternalizeParamsPass
    : public baq::impl::BaqExternalizeParamsBase<BaqExternalizeParamsPass> {
  using BaqExternalizeParamsBase::BaqExternalizeParamsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (file.empty()) {
      module.emitError("baq-externalize-params: file= names the parameter "
                       "file to write");
      return signalPassFailure();
    }
    if (minBytes < 0) {
      module.emitError("baq-externalize-params: min-bytes must be >= 0");
      return signalPassFailure();
    }
    // A module already reading another file would need two at run time.
    WalkResult existing = module.walk([&](PackedParameterOp op) {
      op.emitError() << "the module already reads parameter '" << op.getKey()
                     << "' from a file: inline it first (--baq-inline-params)";
      return WalkResult::interrupt();
    });
    if (existing.wasInterrupted())
      return signalPassFailure();

    // One weight per distinct (layout, payload, scales, zeros): the ops that
    // --baq-allocate repeats per access share their blobs.
    using Parts = std::tuple<Attribute, Attribute, Attribute, Attribute>;
    llvm::MapVector<Parts, SmallVector<PackedConstantOp>> weights;
    module.walk([&](PackedConstantOp op) {
      Parts parts{op.getLayout(), op.getPayload(), op.getScales(),
                  op.getZeros()};
      weights[parts].push_back(op);
    });

    std::vector<ParameterTensor> tensors;
    std::vector<std::pair<std::string, std::string>> metadata = {
        {kParameterFormatKey.str(), kParameterFormatVersion.str()}};
    SmallVector<std::pair<std::string, ArrayRef<PackedConstantOp>>> moved;
    llvm::StringSet<> keys;
    for (auto &[parts, ops] : weights) {
      PackedConstantOp first = ops.front();
      PackedLayoutAttr layout = first.getLayout();
      uint64_t bytes = layout.getPayloadBytes() + layout.getScaleBytes() +
                       layout.getZeroBytes();
      if (bytes < uint64_t(minBytes))
        continue;
      std::string base = getWeightName(first), key = base;
      for (int suffix = 1; !keys.insert(key).second; ++suffix)
        key = base + "." + std::to_string(suffix);
      ElementsAttr values[] = {first.getPayload(), first.getScales(),
                               first.getZeros()};
      for (auto [part, value] : llvm::zip(kPackedParts, values)) {
        llvm::Expected<ParameterTensor> tensor =
            getParameterTensor(getParameterTensorName(key, part), value);
        if (!tensor) {
          first.emitError() << llvm::toString(tensor.takeError());
          return signalPassFailure();
        }
        tensors.push_back(std::move(*tensor));
      }
      std::string json;
      llvm::raw_string_ostream os(json);
      os << llvm::json::Value(layoutToJson(layout));
      metadata.emplace_back((kParameterLayoutPrefix + key).str(), json);
      moved.emplace_back(key, ops);
    }
    if (llvm::Error error = writeParameterFile(file, tensors, metadata)) {
      module.emitError() << "baq-externalize-params: "
                         << llvm::toString(std::move(error));
      return signalPassFailure();
    }
    for (auto &[key, ops] : moved) {
      for (PackedConstantOp op : ops) {
        OpBuilder builder(op);
        auto parameter = PackedParameterOp::create(builder, op.getLoc(),
                                                   op.getLayout(), key);
        op->replaceAllUsesWith(parameter->getResults());
        op->erase();
      }
    }
  }
};

//===----------------------------------------------------------------------===//
// baq-inline-params
//===----------------------------------------------------------------------===//

struct BaqInlineParamsPass
    : public baq::impl::BaqInlineParamsBase<BaqInlineParamsPass> {
  using BaqInlineParamsBase::BaqInlineParamsBase;

  /// The parts of weight `key` from the file as blobs `<key>_payload`, ...,
  /// after checking its layout and tensors against the op's layout.
  FailureOr<SmallVector<ElementsAttr>>
  readWeight(PackedParameterOp op, const SafetensorsFile &params,
             const llvm::StringMap<const SafetensorsEntry *> &entries) {
    StringRef key = op.getKey();
    PackedLayoutAttr layout = op.getLayout();
    llvm::Expected<std::array<const SafetensorsEntry *, 3>> found =
        findParameter(params, entries, key, layout, /*checkAlignment=*/false);
    if (!found)
      return op.emitError() << "parameter '" << key << "' in '" << file
                            << "': " << llvm::toString(found.takeError());
    SmallVector<ElementsAttr> parts;
    for (PackedPart part : kPackedParts) {
      const SafetensorsEntry *entry = (*found)[static_cast<unsigned>(part)];
      StringRef bytes =
          params.buffer->getBuffer().slice(entry->begin, entry->end);
      AsmResourceBlob blob =
          bytes.empty() ? HeapAsmResourceBlob::allocate(0, /*align=*/4)
                        : HeapAsmResourceBlob::allocateAndCopyWithAlign(
                              ArrayRef<char>(bytes.data(), bytes.size()),
                              /*align=*/4);
      parts.push_back(DenseResourceElementsAttr::get(
          getPackedPartType(layout, part),
          (key + "_" + getPackedPartName(part)).str(), std::move(blob)));
    }
    return parts;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<PackedParameterOp> ops;
    module.walk([&](PackedParameterOp op) { ops.push_back(op); });
    if (ops.empty())
      return;
    if (file.empty()) {
      module.emitError("baq-inline-params: file= names the parameter file "
                       "to read");
      return signalPassFailure();
    }
    llvm::Expected<SafetensorsFile> params = readSafetensors(file);
    if (!params) {
      module.emitError() << "baq-inline-params: cannot read parameter file '"
                         << file << "': " << llvm::toString(params.takeError());
      return signalPassFailure();
    }
    if (llvm::Error error = checkParameterFormat(*params)) {
      module.emitError() << "baq-inline-params: '" << file
                         << "': " << llvm::toString(std::move(error));
      return signalPassFailure();
    }
    llvm::StringMap<const SafetensorsEntry *> entries;
    for (const SafetensorsEntry &entry : params->entries)
      entries[entry.name] = &entry;

    // One set of blobs per key, shared by every op that reads it.
    llvm::StringMap<std::pair<PackedLayoutAttr, SmallVector<ElementsAttr>>>
        loaded;
    for (PackedParameterOp op : ops) {
      auto it = loaded.find(op.getKey());
      if (it == loaded.end()) {
        FailureOr<SmallVector<ElementsAttr>> parts =
            readWeight(op, *params, entries);
        if (failed(parts))
          return signalPassFailure();
        it = loaded.try_emplace(op.getKey(), op.getLayout(), *parts).first;
      } else if (it->second.first != op.getLayout()) {
        op.emitError() << "parameter '" << op.getKey()
                       << "' is read with two different layouts";
        return signalPassFailure();
      }
      ArrayRef<ElementsAttr> parts = it->second.second;
      OpBuilder builder(op);
      auto constant = PackedConstantOp::create(
          builder, op.getLoc(), op.getLayout(), parts[0], parts[1], parts[2]);
      op->replaceAllUsesWith(constant->getResults());
      op->erase();
    }
  }
};

} // namespace
