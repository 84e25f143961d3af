// safetensors: reading over mmap without copying (single files and sharded checkpoints with
// model.safetensors.index.json), and writing (tessera-forward's outputs, test fixtures).
// Every header field is validated; a hostile file gets an Error, never an out-of-bounds read.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "tessera/core/tensor.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera {

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // The tensor's bytes in place (or an aligned copy when the file's offset is misaligned).
  Tensor get(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Lets the tensor's pages leave memory (see MappedFile::release); the tensor stays valid.
  void release(const std::string& name) const;

 private:
  struct Entry {
    DType dtype;
    Shape shape;
    size_t begin, end;  // absolute offsets in the file
  };
  std::string path_;
  std::shared_ptr<const MappedFile> file_;
  std::map<std::string, Entry> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (any dtype) to `path` in safetensors format, names in sorted order.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Every tensor of a checkpoint directory by name: model.safetensors, or the shards listed
// in model.safetensors.index.json.
class WeightStore {
 public:
  static WeightStore open_dir(const std::string& dir);
  static WeightStore from_file(const std::string& path);
  // A store over tensors already in hand (a GGUF file's, under the family's names); `release`
  // is called with a name when the tensor's bytes have been copied and its pages may go.
  static WeightStore from_tensors(std::string source, std::map<std::string, Tensor> tensors,
                                  std::function<void(const std::string&)> release = {});
  // A store that has every tensor: each is made on first request with the shape asked for,
  // in `dtype` (1-D "*weight" tensors are ones, biases zeros, matrices N(0, 0.02) seeded by
  // name). For benchmarking any family and size without a checkpoint.
  static WeightStore random(DType dtype, uint64_t seed = 0);
  // Total bytes and elements of the tensors handed out so far by a random store, or of all
  // tensors of a checkpoint.
  size_t total_bytes() const;
  int64_t total_parameters() const;

  bool has(const std::string& name) const { return random_ != nullptr || where_.count(name) != 0 || tensors_.count(name) != 0; }
  // The tensor, or an Error naming it and the checkpoint.
  Tensor get(const std::string& name) const;
  // The tensor with a shape check: Error "tensor X in FILE: expected shape [..], found [..]".
  Tensor get(const std::string& name, const Shape& expected) const;
  std::vector<std::string> names() const;
  const std::string& source() const { return source_; }
  // The file a tensor lives in (for messages).
  const std::string& file_of(const std::string& name) const;
  // The tensor's bytes were copied (packed) elsewhere: let its mapped pages go.
  void release(const std::string& name) const;

  // Quantize at load: float weight matrices handed to Scope::linear become this ggml type
  // (ggml's reference quantizer; rows that do not fit the block fall back as llama-quantize
  // does). Unset: weights keep the file's type.
  void set_quantize(std::optional<DType> type) { quantize_ = type; }
  std::optional<DType> quantize() const { return quantize_; }
  // GPT-2's Conv1D matrices, [in, out] in Hugging Face's files, are stored [out, in] like
  // nn.Linear's (llama.cpp's converter transposed them; a quantized matrix cannot be turned
  // back). Scope::linear_transposed then reads them as they are.
  void set_conv1d_transposed(bool v) { conv1d_transposed_ = v; }
  bool conv1d_transposed() const { return conv1d_transposed_; }

 private:
  struct Random;
  Tensor random_tensor(const std::string& name, const Shape& shape) const;
  std::string source_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t> where_;
  std::shared_ptr<Random> random_;
  std::map<std::string, Tensor> tensors_;  // from_tensors
  std::function<void(const std::string&)> release_;
  std::optional<DType> quantize_;
  bool conv1d_transposed_ = false;
};

}  // namespace tessera
