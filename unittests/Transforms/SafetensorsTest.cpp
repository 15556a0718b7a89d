//===- SafetensorsTest.cpp - safetensors reader ---------------------------===//
//
// Values are checked against IEEE bit patterns written by hand (f16 0x3C00 =
// 1, bf16 0xC000 = -2, ...), and every header claim the reader must not
// trust is falsified once.
//
//===----------------------------------------------------------------------===//

#include "baq/Dialect/Baq/Transforms/Safetensors.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace mlir::baq;

namespace {

/// A file holding `header` (padded to 8 bytes) and `data`, with the header
/// size field `declared` (default: the true size).
std::string writeFile(std::string header, const std::string &data,
                      int64_t declared = -1) {
  while (header.size() % 8)
    header += ' ';
  uint64_t size = declared < 0 ? header.size() : uint64_t(declared);
  llvm::SmallString<128> path;
  EXPECT_FALSE(
      llvm::sys::fs::createTemporaryFile("baq-st", "safetensors", path));
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  EXPECT_FALSE(ec);
  for (int i = 0; i < 8; ++i)
    os << char((size >> (8 * i)) & 0xFF);
  os << header << data;
  return path.str().str();
}

std::string bytes(std::initializer_list<uint8_t> values) {
  return std::string(values.begin(), values.end());
}

std::string errorOf(const std::string &path) {
  llvm::Expected<SafetensorsFile> file = readSafetensors(path);
  if (file)
    return "";
  return llvm::toString(file.takeError());
}

TEST(Safetensors, ReadsF32F16BF16InFileOrder) {
  // f32 [1.5, -0.25], f16 [1, -2, 0.5, 65504], bf16 [1, -2, 3.140625, 0].
  std::string data = bytes({0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x80, 0xBE}) +
                     bytes({0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0xFF, 0x7B}) +
                     bytes({0x80, 0x3F, 0x00, 0xC0, 0x49, 0x40, 0x00, 0x00});
  std::string path =
      writeFile(R"({"z":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                R"("__metadata__":{"format":"pt"},)"
                R"("a":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]},)"
                R"("m":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]}})",
                data);
  llvm::Expected<SafetensorsFile> file = readSafetensors(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->entries.size(), 3u);
  EXPECT_EQ(file->entries[0].name, "z");
  EXPECT_EQ(file->entries[1].name, "a");
  EXPECT_EQ(file->entries[2].name, "m");
  EXPECT_EQ(file->entries[1].shape, (llvm::SmallVector<int64_t>{2, 2}));
  std::vector<std::vector<float>> want = {{1.5f, -0.25f},
                                          {1.0f, -2.0f, 0.5f, 65504.0f},
                                          {1.0f, -2.0f, 3.140625f, 0.0f}};
  for (size_t i = 0; i < 3; ++i) {
    llvm::Expected<std::vector<float>> values =
        readSafetensorsFloats(*file, file->entries[i]);
    ASSERT_TRUE(bool(values)) << llvm::toString(values.takeError());
    EXPECT_EQ(*values, want[i]) << file->entries[i].name;
  }
  llvm::sys::fs::remove(path);
}

TEST(Safetensors, RejectsUnsupportedDtypeOnRead) {
  std::string path =
      writeFile(R"({"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
                std::string(8, '\0'));
  llvm::Expected<SafetensorsFile> file = readSafetensors(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  llvm::Expected<std::vector<float>> values =
      readSafetensorsFloats(*file, file->entries[0]);
  ASSERT_FALSE(bool(values));
  EXPECT_EQ(llvm::toString(values.takeError()),
            "tensor 'd' has dtype F64; expected F32, F16 or BF16");
  llvm::sys::fs::remove(path);
}

TEST(Safetensors, RejectsLyingHeaders) {
  const char *ok = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  struct Case {
    std::string path, expected;
  };
  std::vector<Case> cases = {
      {writeFile(ok, std::string(4, '\0')),
       "tensor 't' has data_offsets outside the 4 data bytes of the file "
       "(truncated file?)"},
      {writeFile(ok, std::string(8, '\0'), 1 << 20),
       "header size 1048576 exceeds the"},
      {writeFile(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                 std::string(8, '\0')),
       "tensor 't' holds 8 bytes, but its shape and dtype F32 need 12"},
      {writeFile(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
                 std::string(8, '\0')),
       "tensor 't' has data_offsets outside"},
      {writeFile(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})",
                 std::string(8, '\0')),
       "tensor 't' has an invalid shape"},
      {writeFile(R"({"t":{"dtype":"F32","shape":[4611686018427387904,4],)"
                 R"("data_offsets":[0,8]}})",
                 std::string(8, '\0')),
       "tensor 't' has an invalid shape"},
      {writeFile(R"({"t":{"shape":[2],"data_offsets":[0,8]}})",
                 std::string(8, '\0')),
       "tensor 't' needs a string 'dtype'"},
      {writeFile("[1, 2]", ""), "header is not a JSON object"},
      {writeFile("{\"t\": ", ""), "header is not valid JSON"},
  };
  for (const Case &c : cases) {
    std::string error = errorOf(c.path);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "got: " << error << "\nexpected: " << c.expected;
    llvm::sys::fs::remove(c.path);
  }
}

TEST(Safetensors, RejectsShortAndMissingFiles) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("baq-st", "st", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << "abc";
  }
  EXPECT_EQ(errorOf(path.str().str()),
            "file is 3 bytes, shorter than the 8-byte header size");
  llvm::sys::fs::remove(path);
  EXPECT_NE(errorOf(path.str().str()).find("cannot read"), std::string::npos);
}

} // namespace
