// JSON documents with errors a user can act on: every failed lookup names the file and the
// field path, and says what type was expected and what was found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/core/error.hpp"

namespace tessera {

// Parses `text` (named `source` in errors). Rejects nesting deeper than max_depth before
// parsing, so hostile files cannot exhaust the stack. With unique_keys, an object that names
// a key twice is an Error (nlohmann, like Python, would silently keep the last one).
nlohmann::json parse_json(const std::string& text, const std::string& source, int max_depth = 64,
                          bool unique_keys = false);
// The same, keeping each object's keys in file order (what a template printing JSON back needs).
nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& source, int max_depth = 64);
nlohmann::json load_json_file(const std::string& path, int max_depth = 64, bool unique_keys = false);

// A view of one JSON object that knows where it came from ("config.json", "config.json: rope_scaling").
class JsonObject {
 public:
  JsonObject() = default;
  JsonObject(nlohmann::json j, std::string where);

  const std::string& where() const { return where_; }
  const nlohmann::json& raw() const { return j_; }
  bool has(const std::string& key) const;  // present and not null

  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::optional<JsonObject> get_object(const std::string& key) const;
  // An int or a list of ints (e.g. eos_token_id); empty when absent or null.
  std::vector<int64_t> get_int_list(const std::string& key) const;

  // A positive integer no larger than `max` (sizes read from configs).
  int64_t get_size(const std::string& key, int64_t max = int64_t(1) << 31) const;
  int64_t get_size(const std::string& key, int64_t fallback, int64_t max) const;

 private:
  [[noreturn]] void type_error(const std::string& key, const char* expected) const;
  nlohmann::json j_ = nlohmann::json::object();
  std::string where_;
};

}  // namespace tessera
