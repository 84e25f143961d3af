// Reading tokenizer.json fields with errors that name the file and the field.
#include "components.hpp"
#include "tessera/core/error.hpp"

namespace tessera::text {

void JsonPath::fail(std::string_view what) const {
  ::tessera::fail("{}: field '{}' {}", file, path.empty() ? std::string("(root)") : path, what);
}

const json& req(const json& j, std::string_view key, const JsonPath& p) {
  if (!j.is_object()) p.fail("must be an object");
  auto it = j.find(key);
  if (it == j.end()) p.at(key).fail("is missing");
  return *it;
}

std::string req_string(const json& j, std::string_view key, const JsonPath& p) {
  const json& v = req(j, key, p);
  if (!v.is_string()) p.at(key).fail(std::string("must be a string, found ") + v.type_name());
  return v.get<std::string>();
}

std::string opt_string(const json& j, std::string_view key, const JsonPath& p, std::string def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_string()) p.at(key).fail(std::string("must be a string, found ") + it->type_name());
  return it->get<std::string>();
}

std::optional<std::string> opt_nullable_string(const json& j, std::string_view key, const JsonPath& p) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) p.at(key).fail(std::string("must be a string or null, found ") + it->type_name());
  return it->get<std::string>();
}

bool opt_bool(const json& j, std::string_view key, const JsonPath& p, bool def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_boolean()) p.at(key).fail(std::string("must be true or false, found ") + it->type_name());
  return it->get<bool>();
}

int64_t opt_int(const json& j, std::string_view key, const JsonPath& p, int64_t def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_number_integer()) p.at(key).fail(std::string("must be an integer, found ") + it->type_name());
  return it->get<int64_t>();
}

double opt_number(const json& j, std::string_view key, const JsonPath& p, double def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_number()) p.at(key).fail(std::string("must be a number, found ") + it->type_name());
  return it->get<double>();
}

std::string type_of(const json& j, const JsonPath& p) {
  if (!j.is_object()) p.fail(std::string("must be an object, found ") + j.type_name());
  return req_string(j, "type", p);
}

}  // namespace tessera::text
