#include "tessera/io/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>

#include "tessera/io/json.hpp"

namespace tessera {
namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  f.file_ = MappedFile::open(path);
  const size_t size = f.file_->size();
  if (size < 8) fail("{}: not a safetensors file: {} bytes, need at least 8 for the header length", path, size);
  uint64_t header_len;
  std::memcpy(&header_len, f.file_->data(), 8);
  if (header_len > kMaxHeader) fail("{}: header length {} exceeds the {}-byte limit", path, header_len, kMaxHeader);
  if (header_len > size - 8)
    fail("{}: header length {} runs past the end of the file ({} bytes)", path, header_len, size);
  std::string header(reinterpret_cast<const char*>(f.file_->data()) + 8, header_len);
  nlohmann::json j = parse_json(header, path + " (safetensors header)", 8, /*unique_keys=*/true);
  if (!j.is_object()) fail("{}: safetensors header must be a JSON object, found {}", path, j.type_name());

  const size_t data_start = 8 + size_t(header_len);
  const size_t data_size = size - data_start;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail("{}: __metadata__ must be an object of strings", path);
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail("{}: __metadata__ field '{}' must be a string", path, m.key());
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) fail("{}: tensor '{}': header entry must be an object", path, name);
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail("{}: tensor '{}': missing string field 'dtype'", path, name);
    auto dt = dtype_from_name(v["dtype"].get<std::string>());
    if (!dt) fail("{}: tensor '{}': unsupported dtype '{}'", path, name, v["dtype"].get<std::string>());
    if (!v.contains("shape") || !v["shape"].is_array()) fail("{}: tensor '{}': missing array field 'shape'", path, name);
    Shape shape;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail("{}: tensor '{}': shape entries must be non-negative integers, found {}", path, name, d.dump());
      uint64_t u = d.get<uint64_t>();
      if (u > uint64_t(INT64_MAX)) fail("{}: tensor '{}': dimension {} too large", path, name, u);
      shape.push_back(int64_t(u));
    }
    int64_t numel;
    try {
      numel = shape_numel(shape);
    } catch (const Error&) {
      fail("{}: tensor '{}': shape {} has too many elements", path, name, shape_str(shape));
    }
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
        !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned())
      fail("{}: tensor '{}': 'data_offsets' must be two non-negative integers", path, name);
    uint64_t b = v["data_offsets"][0].get<uint64_t>(), e = v["data_offsets"][1].get<uint64_t>();
    if (b > e || e > data_size)
      fail("{}: tensor '{}': data_offsets [{}, {}] outside the {}-byte data section", path, name, b, e, data_size);
    uint64_t want = uint64_t(numel);
    if (want > UINT64_MAX / dtype_size(*dt))
      fail("{}: tensor '{}': shape {} of {} needs more than 2^64 bytes", path, name, shape_str(shape), dtype_name(*dt));
    if (want * dtype_size(*dt) != e - b)
      fail("{}: tensor '{}': shape {} of {} needs {} bytes, data_offsets give {}", path, name, shape_str(shape),
           dtype_name(*dt), want * dtype_size(*dt), e - b);
    ranges.emplace_back(b, e);
    f.tensors_[name] = Entry{*dt, std::move(shape), data_start + size_t(b), data_start + size_t(e)};
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second && ranges[i].first != ranges[i].second &&
        ranges[i - 1].first != ranges[i - 1].second)
      fail("{}: tensors overlap in the data section (bytes {}..{} and {}..{})", path, ranges[i - 1].first,
           ranges[i - 1].second, ranges[i].first, ranges[i].second);
  return f;
}

Tensor SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail("{}: no tensor named '{}'", path_, name);
  const Entry& e = it->second;
  const unsigned char* p = file_->data() + e.begin;
  if (reinterpret_cast<uintptr_t>(p) % dtype_size(e.dtype) != 0) {
    // safetensors only promises 8-byte alignment of the data section; copy stragglers.
    Tensor t = Tensor::zeros(e.dtype, e.shape);
    std::memcpy(t.raw(), p, e.end - e.begin);
    return t;
  }
  return Tensor::borrow(e.dtype, e.shape, p, file_);
}

void SafetensorsFile::release(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it != tensors_.end()) file_->release(it->second.begin, it->second.end - it->second.begin);
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : tensors_) out.push_back(k);
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", std::string(dtype_name(t.dtype()))},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("{}: cannot open for writing", path);
  uint64_t len = h.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out.write(h.data(), std::streamsize(h.size()));
  for (const auto& [name, t] : tensors) out.write(static_cast<const char*>(t.raw()), std::streamsize(t.nbytes()));
  if (!out) fail("{}: write failed", path);
}

WeightStore WeightStore::from_file(const std::string& path) {
  WeightStore s;
  s.source_ = path;
  s.files_.push_back(SafetensorsFile::open(path));
  for (const auto& n : s.files_[0].names()) s.where_[n] = 0;
  return s;
}

WeightStore WeightStore::from_tensors(std::string source, std::map<std::string, Tensor> tensors,
                                      std::function<void(const std::string&)> release) {
  WeightStore s;
  s.source_ = std::move(source);
  s.tensors_ = std::move(tensors);
  s.release_ = std::move(release);
  return s;
}

WeightStore WeightStore::open_dir(const std::string& dir) {
  const std::string single = dir + "/model.safetensors";
  const std::string index = dir + "/model.safetensors.index.json";
  if (file_exists(single)) return from_file(single);
  if (!file_exists(index))
    fail("{}: no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are supported)", dir);
  WeightStore s;
  s.source_ = index;
  JsonObject idx(load_json_file(index, 64, /*unique_keys=*/true), index);
  auto map = idx.get_object("weight_map");
  if (!map) fail("{}: missing 'weight_map'", index);
  std::map<std::string, size_t> file_ids;
  for (auto it = map->raw().begin(); it != map->raw().end(); ++it) {
    if (!it.value().is_string()) fail("{}: weight_map['{}'] must be a file name", index, it.key());
    std::string file = it.value().get<std::string>();
    if (file.find('/') != std::string::npos || file == "..")
      fail("{}: weight_map['{}'] = '{}': shard names must be plain file names", index, it.key(), file);
    auto [fit, inserted] = file_ids.emplace(file, s.files_.size());
    if (inserted) {
      if (!file_exists(dir + "/" + file)) fail("{}: shard '{}' (for tensor '{}') does not exist", index, file, it.key());
      s.files_.push_back(SafetensorsFile::open(dir + "/" + file));
    }
    if (!s.files_[fit->second].has(it.key()))
      fail("{}: tensor '{}' is mapped to shard '{}', which does not contain it", index, it.key(), file);
    s.where_[it.key()] = fit->second;
  }
  return s;
}

Tensor WeightStore::get(const std::string& name) const {
  if (random_) fail("random weights: tensor '{}' requested without a shape", name);
  if (auto t = tensors_.find(name); t != tensors_.end()) return t->second;
  auto it = where_.find(name);
  if (it == where_.end()) fail("{}: missing tensor '{}'", source_, name);
  return files_[it->second].get(name);
}

Tensor WeightStore::get(const std::string& name, const Shape& expected) const {
  if (random_) return random_tensor(name, expected);
  Tensor t = get(name);
  if (t.shape() != expected)
    fail("{}: tensor '{}': expected shape {}, found {}", file_of(name), name, shape_str(expected), shape_str(t.shape()));
  return t;
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : where_) out.push_back(k);
  for (const auto& [k, v] : tensors_) out.push_back(k);
  return out;
}

void WeightStore::release(const std::string& name) const {
  if (release_ && tensors_.count(name)) release_(name);
  auto it = where_.find(name);
  if (it != where_.end()) files_[it->second].release(name);
}

const std::string& WeightStore::file_of(const std::string& name) const {
  auto it = where_.find(name);
  return it == where_.end() ? source_ : files_[it->second].path();
}

}  // namespace tessera
