// safetensors checkpoints (io/safetensors.hpp): the sample written by
// tools/safetensors_check.py (Python, numpy; no patchnet code) read with known values and
// re-written byte for byte, a round trip of every dtype, the SafeTensors API, and one test
// per load error.
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "patchnet/io/safetensors.hpp"
#include "support/temp_dir.hpp"
#include "support/test_util.hpp"

using namespace patchnet;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A file from a header text and `data_bytes` bytes of data (values 0, 1, 2, ...).
std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> b(8 + header.size() + data_bytes);
  const uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data_bytes; ++i) b[8 + header.size() + i] = static_cast<uint8_t>(i);
  return b;
}

void check_parse_fails(const std::string& header, size_t data_bytes, const std::string& text) {
  CAPTURE(header);
  const auto b = make_file(header, data_bytes);
  CHECK_THROWS_PN(io::parse_safetensors(b, "bad.safetensors"), text);
}

const std::string kSample = std::string(PATCHNET_GOLDEN_DIR) + "/safetensors_sample.safetensors";

}  // namespace

TEST_CASE("safetensors: reads the sample written by tools/safetensors_check.py") {
  const io::SafeTensors st = io::load_safetensors(kSample);
  CHECK(st.path == kSample);
  std::vector<std::string> names;
  for (const auto& r : st.records()) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"weight", "bias", "counts", "step", "mask", "empty", "big"});
  CHECK(st.metadata == std::map<std::string, std::string>{{"format", "pt"},
                                                          {"producer", "tools/safetensors_check.py"},
                                                          {"note",
                                                           "\xc3\xbcnic\xc3\xb8"
                                                           "de \"quoted\"\n\ttab"}});

  CHECK(st.at("weight").dtype == io::DType::F32);
  const auto w = st.tensor<float>("weight");
  CHECK(w.shape() == Shape{2, 3});
  CHECK(w.to_vector() == std::vector<float>{0.5f, -1.25f, 3.0f, 0.1f, -1024.0f, 1e-30f});
  const auto wd = st.tensor<double>("weight");  // F32 -> double: the float values exactly
  CHECK(wd.at({1, 0}) == static_cast<double>(0.1f));

  const auto b = st.tensor<double>("bias");
  CHECK(b.to_vector() == std::vector<double>{std::numbers::pi, -std::numbers::e, 1e-300});
  CHECK(st.tensor<float>("bias").at({0}) == static_cast<float>(std::numbers::pi));

  CHECK(st.at("counts").dtype == io::DType::I32);
  CHECK(st.at("counts").shape == std::vector<int64_t>{2, 2});
  CHECK(st.i64("counts") == std::vector<int64_t>{-2147483648LL, 2147483647LL, 0, -7});
  CHECK(st.at("step").shape.empty());
  CHECK(st.i64("step") == std::vector<int64_t>{1234567890123LL});
  CHECK(st.at("mask").dtype == io::DType::U8);
  CHECK(st.i64("mask") == std::vector<int64_t>{0, 1, 127, 128, 255});
  CHECK(st.tensor<float>("empty").shape() == Shape{0, 4});
  CHECK(st.i64("big") == std::vector<int64_t>{-(int64_t(1) << 62), (int64_t(1) << 62) + 1, -1});

  // The C++ writer produces the Python writer's bytes.
  CHECK(io::serialize_safetensors(st) == read_bytes(kSample));
}

TEST_CASE("safetensors: round trip of every dtype through a file") {
  test::TempDir tmp("safetensors");
  const std::string path = tmp.file("ckpt.safetensors");
  io::SafeTensors st;
  const auto m = test::uniform<float>({3, 5}, 1);
  st.add("layer.w", transpose(m, 0, 1));  // a strided view is written packed
  st.add("layer.b", test::uniform<double>({7}, 2));
  st.add("labels", Tensor<int32_t>::from_vector({3, -1, 7, 0}, {2, 2}));
  st.add("pixels", Tensor<uint8_t>::from_vector({0, 200, 255}, {1, 3}));
  st.add_i64("optimizer.steps", {}, {42});
  st.add_i64("nothing", {0}, {});
  st.add("scalar", Tensor<float>::scalar(2.5f));
  st.metadata["epoch"] = "3";
  st.metadata["config"] = "{\"lr\": 0.001}";
  io::save_safetensors(path, st);

  const auto bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);  // header padded

  const io::SafeTensors back = io::load_safetensors(path);
  REQUIRE(back.records().size() == st.records().size());
  for (size_t i = 0; i < st.records().size(); ++i) {
    const auto &a = st.records()[i], &b = back.records()[i];
    CHECK(a.name == b.name);
    CHECK(a.dtype == b.dtype);
    CHECK(a.shape == b.shape);
    CHECK(a.data == b.data);
  }
  CHECK(back.metadata == st.metadata);
  CHECK(back.tensor<float>("layer.w").to_vector() == transpose(m, 0, 1).contiguous().to_vector());
  CHECK(back.tensor<float>("layer.w").shape() == Shape{5, 3});
  CHECK(back.i64("labels") == std::vector<int64_t>{3, -1, 7, 0});
  CHECK(back.i64("optimizer.steps") == std::vector<int64_t>{42});
  CHECK(back.i64("nothing").empty());
  CHECK(back.tensor<double>("scalar").item() == 2.5);
  // Every tensor is aligned to its item size (data laid out by decreasing item size).
  const size_t data_start = 8 + n;
  for (const auto& r : back.records()) {
    CAPTURE(r.name);
    CHECK(data_start % io::dtype_size(r.dtype) == 0);
  }
  // Saving again over the file replaces it.
  io::SafeTensors small;
  small.add_i64("x", {1}, {5});
  io::save_safetensors(path, small);
  CHECK(io::load_safetensors(path).records().size() == 1);
}

TEST_CASE("safetensors: API errors") {
  io::SafeTensors st;
  st.path = "model.safetensors";
  st.add_i64("a", {2}, {1, 2});
  CHECK(st.contains("a"));
  CHECK_FALSE(st.contains("b"));
  CHECK_THROWS_PN(st.at("x"), "checkpoint model.safetensors: no tensor 'x'");
  CHECK_THROWS_PN(st.tensor<float>("x"), "checkpoint model.safetensors: no tensor 'x'");
  CHECK_THROWS_PN(st.add_i64("a", {1}, {3}), "checkpoint model.safetensors: tensor 'a' added twice");
  CHECK_THROWS_PN(st.add_i64("b", {3}, {1, 2}), "tensor 'b' I64 [3] needs 24 bytes, got 16");
  CHECK_THROWS_PN(st.add_i64("c", {-1}, {}), "negative size in shape [-1]");
  CHECK_THROWS_PN(st.add_i64("", {0}, {}), "a tensor name must not be empty");
  CHECK_THROWS_PN(st.add_i64("__metadata__", {0}, {}), "'__metadata__' is reserved");
  CHECK_THROWS_PN(st.add_i64("\xff", {0}, {}), "is not valid UTF-8");
  CHECK_THROWS_PN(st.add("u", Tensor<float>()), "tensor 'u' is undefined");
  CHECK_THROWS_PN(st.tensor<double>("a"), "tensor 'a' is I64; tensor<float64>() reads F32 or F64");
  st.add("f", Tensor<float>::ones({2}));
  CHECK_THROWS_PN(st.i64("f"), "tensor 'f' is F32; i64() reads I64, I32 or U8");
  io::TensorRecord deep{"deep", io::DType::F32, std::vector<int64_t>(9, 1), std::vector<uint8_t>(4)};
  st.add(deep);
  CHECK_THROWS_PN(st.tensor<float>("deep"), "has rank 9, more than patchnet's 8");
  io::SafeTensors empty;
  CHECK_THROWS_PN(empty.at("q"), "checkpoint (in memory): no tensor 'q'");

  test::TempDir tmp("safetensors");
  st.metadata["bad"] = "\xfe";
  const std::string path = tmp.file("m.safetensors");
  CHECK_THROWS_PN(io::save_safetensors(path, st), "checkpoint " + path + ": cannot write the header");
  CHECK_FALSE(fs::exists(path));
  CHECK_THROWS_PN(io::save_safetensors(tmp.file("no/such/dir.safetensors"), io::SafeTensors{}),
                  "No such file or directory");
}

TEST_CASE("safetensors: load errors name the file and the problem") {
  test::TempDir tmp("safetensors");
  const std::string missing = tmp.file("missing.safetensors");
  CHECK_THROWS_PN(io::load_safetensors(missing), "checkpoint " + missing + ": cannot open: No such file or directory");
  CHECK_THROWS_PN(io::load_safetensors(tmp.dir.string()), ": not a regular file");
  const std::string short_file = tmp.file("short.safetensors");
  write_bytes(short_file, {1, 0, 0});
  CHECK_THROWS_PN(io::load_safetensors(short_file),
                  "checkpoint " + short_file + ": file is 3 bytes, shorter than the 8-byte header length");
  const std::string big_header = tmp.file("big.safetensors");
  write_bytes(big_header, {0xe8, 0x03, 0, 0, 0, 0, 0, 0, '{', '}'});
  CHECK_THROWS_PN(io::load_safetensors(big_header), "header length 1000 is larger than the 2 bytes after it");
  const std::string huge_header = tmp.file("huge.safetensors");
  write_bytes(huge_header, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'});
  CHECK_THROWS_PN(io::load_safetensors(huge_header), "header length 18446744073709551615 is larger than");

  const std::string A = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  CHECK_NOTHROW(io::parse_safetensors(make_file("{" + A + "}    ", 8), "ok"));
  check_parse_fails("{" + A, 8, "checkpoint bad.safetensors: header JSON: unexpected end of the JSON text");
  check_parse_fails("{\"a\":{\"dtype\" \"F32\"}}", 0,
                    "header JSON: expected ':' after the object key, found '\"' at byte 14");
  check_parse_fails("[1,2]", 0, "header JSON is an array, not an object");
  check_parse_fails(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 4,
                    "tensor 'a': unsupported dtype 'BF16' (patchnet reads F32, F64, I32, I64, U8)");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8,
                    "tensor 'a': F32 [3] needs 12 bytes, data_offsets [0, 8] hold 8");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}})", 8,
                    "tensor 'a': data_offsets [0, 80] are out of range: the data is 8 bytes");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "out of range");
  check_parse_fails("{" + A + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12,
                    "data of tensors 'a' and 'b' overlap");
  check_parse_fails("{" + A + R"(,"b":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}})", 8,
                    "data of tensors 'a' and 'b' overlap");
  check_parse_fails("{" + A + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})", 20,
                    "4 bytes of data before tensor 'b' belong to no tensor");
  check_parse_fails("{" + A + "}", 12, "the last 4 bytes of data belong to no tensor");
  check_parse_fails("{" + A + "," + A + "}", 8, "duplicate name 'a' in the header");
  check_parse_fails(R"({"__metadata__":{"k":1}})", 0, "__metadata__ value of 'k' is a number, not a string");
  check_parse_fails(R"({"__metadata__":[]})", 0, "__metadata__ is an array, not an object of strings");
  check_parse_fails(R"({"__metadata__":{"k":"x","k":"y"}})", 0, "duplicate __metadata__ key 'k'");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", 8,
                    "tensor 'a': unknown field 'extra'");
  check_parse_fails(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8,
                    "field 'dtype' given twice");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[2]}})", 0, "tensor 'a': needs dtype, shape and data_offsets");
  check_parse_fails(R"({"a":{"dtype":3,"shape":[2],"data_offsets":[0,8]}})", 8, "dtype is a number, not a string");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8,
                    "shape entry '-2' is not a non-negative integer");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8,
                    "shape entry '2.0' is not a non-negative integer");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8, "shape is a number, not an array");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8, "data_offsets must be an array");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}})", 8,
                    "data_offsets must be non-negative integers");
  check_parse_fails(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8,
                    "F32 [4294967296,4294967296,4294967296] needs more than the file's bytes");
  check_parse_fails(R"({"a":[]})", 0, "tensor 'a' is an array, not an object");
  check_parse_fails(R"({"__metadata__":{},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}} x)", 0,
                    "unexpected 'x' after the JSON value");
}

TEST_CASE("safetensors: a FIFO or a directory is refused at once, not waited on") {
  const test::TempDir tmp("st_fifo");
  const std::string fifo = (tmp.path / "pipe.safetensors").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_PN(io::load_safetensors(fifo), "pipe.safetensors: not a regular file");  // hung in open() before
  CHECK_THROWS_PN(io::load_safetensors(tmp.path.string()), "not a regular file");
}
