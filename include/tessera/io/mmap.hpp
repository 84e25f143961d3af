// A read-only memory map of a whole file; weights are read in place from it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace tessera {

class MappedFile {
 public:
  // Maps `path` read-only; throws tessera::Error naming the file if it cannot.
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  // Drops the resident pages wholly inside [offset, offset + n) from this process (they are
  // read back from the file if touched again): for bytes already copied elsewhere, e.g.
  // weights re-laid out into packed panels, so they are not held twice.
  void release(size_t offset, size_t n) const;
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// The whole file as a string (small text files: JSON configs, tokenizers).
std::string read_text_file(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace tessera
