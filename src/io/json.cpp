#include "tessera/io/json.hpp"

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "tessera/io/mmap.hpp"

namespace tessera {

namespace {

// Depth pre-scan outside strings: nlohmann's parser recurses once per level.
void check_json_depth(const std::string& text, const std::string& source, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) fail("{}: JSON nested deeper than {} levels", source, max_depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

}  // namespace

nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& source, int max_depth) {
  check_json_depth(text, source, max_depth);
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", source, e.what());
  }
}

nlohmann::json parse_json(const std::string& text, const std::string& source, int max_depth, bool unique_keys) {
  check_json_depth(text, source, max_depth);
  try {
    if (!unique_keys) return nlohmann::json::parse(text);
    using Event = nlohmann::json::parse_event_t;
    std::vector<std::set<std::string>> keys;  // of each open object
    std::string duplicate;
    auto j = nlohmann::json::parse(text, [&](int, Event event, nlohmann::json& parsed) {
      if (event == Event::object_start) keys.emplace_back();
      else if (event == Event::object_end && !keys.empty()) keys.pop_back();
      else if (event == Event::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
               duplicate.empty())
        duplicate = parsed.get<std::string>();
      return true;
    });
    if (!duplicate.empty())
      fail("{}: duplicate key '{}' (an object names it twice; which one is meant is ambiguous)", source, duplicate);
    return j;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", source, e.what());
  }
}

nlohmann::json load_json_file(const std::string& path, int max_depth, bool unique_keys) {
  return parse_json(read_text_file(path), path, max_depth, unique_keys);
}

JsonObject::JsonObject(nlohmann::json j, std::string where) : j_(std::move(j)), where_(std::move(where)) {
  if (!j_.is_object()) fail("{}: expected a JSON object, found {}", where_, j_.type_name());
}

bool JsonObject::has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }

void JsonObject::type_error(const std::string& key, const char* expected) const {
  fail("{}: field '{}': expected {}, found {}", where_, key, expected, j_.at(key).dump().substr(0, 80));
}

int64_t JsonObject::get_int(const std::string& key) const {
  if (!has(key)) fail("{}: missing required field '{}'", where_, key);
  const auto& v = j_.at(key);
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) type_error(key, "a 64-bit integer");
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {  // some configs write 4096.0; range first: casting 1e57 is undefined
    double d = v.get<double>();
    if (std::abs(d) < 9e15 && d == std::trunc(d)) return int64_t(d);
  }
  type_error(key, "an integer");
}

int64_t JsonObject::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double JsonObject::get_float(const std::string& key) const {
  if (!has(key)) fail("{}: missing required field '{}'", where_, key);
  const auto& v = j_.at(key);
  if (!v.is_number()) type_error(key, "a number");
  return v.get<double>();
}

double JsonObject::get_float(const std::string& key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}

bool JsonObject::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = j_.at(key);
  if (!v.is_boolean()) type_error(key, "true or false");
  return v.get<bool>();
}

std::string JsonObject::get_string(const std::string& key) const {
  if (!has(key)) fail("{}: missing required field '{}'", where_, key);
  const auto& v = j_.at(key);
  if (!v.is_string()) type_error(key, "a string");
  return v.get<std::string>();
}

std::string JsonObject::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::optional<JsonObject> JsonObject::get_object(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  if (!j_.at(key).is_object()) type_error(key, "an object");
  return JsonObject(j_.at(key), where_ + ": " + key);
}

std::vector<int64_t> JsonObject::get_int_list(const std::string& key) const {
  std::vector<int64_t> out;
  if (!has(key)) return out;
  const auto& v = j_.at(key);
  if (v.is_number_integer()) return {v.get<int64_t>()};
  if (!v.is_array()) type_error(key, "an integer or a list of integers");
  for (const auto& e : v) {
    if (!e.is_number_integer()) type_error(key, "a list of integers");
    out.push_back(e.get<int64_t>());
  }
  return out;
}

int64_t JsonObject::get_size(const std::string& key, int64_t max) const {
  int64_t v = get_int(key);
  if (v <= 0 || v > max) fail("{}: field '{}': expected a positive size no larger than {}, found {}", where_, key, max, v);
  return v;
}

int64_t JsonObject::get_size(const std::string& key, int64_t fallback, int64_t max) const {
  return has(key) ? get_size(key, max) : fallback;
}

}  // namespace tessera
