// The Python module tessera._tessera: models, tokenizers and text generation behind a numpy
// API (python/tessera/__init__.py re-exports it and adds the streaming iterator). The GIL is
// released while tessera computes, so other Python threads run meanwhile; tessera::Error
// becomes the Python exception tessera.Error with the same message.
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_tensor.hpp"
#include "tessera/tessera.hpp"

namespace tessera::python {
namespace {

// UTF-8 from tessera → str. Decoded text is valid UTF-8 (the tokenizer replaces bad bytes with
// U+FFFD), "replace" only guards against a surprise instead of raising in the middle of a stream.
py::str to_str(std::string_view s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), py::ssize_t(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

const char* kind_name(ModelKind k) {
  switch (k) {
    case ModelKind::Decoder: return "decoder";
    case ModelKind::Encoder: return "encoder";
    case ModelKind::EncoderDecoder: return "encoder-decoder";
  }
  return "?";
}

// Token ids for `what`: anything numpy.asarray takes, of rank 1 ([tokens]) or 2 ([batch,
// tokens]); returned as [batch, tokens] with `was_1d` set for a single sequence.
Tensor ids_input(const py::handle& ids, const std::string& what, bool& was_1d) {
  Tensor t = tensor_from_numpy(ids, what + ": ids");
  if (t.rank() != 1 && t.rank() != 2)
    fail("{}: ids must be 1-D [tokens] or 2-D [batch, tokens], found shape {}", what, shape_str(t.shape()));
  if (is_float(t.dtype())) fail("{}: ids must be integers, found {}", what, dtype_name(t.dtype()));
  if (t.numel() == 0) fail("{}: no token ids given (shape {})", what, shape_str(t.shape()));
  was_1d = t.rank() == 1;
  return was_1d ? t.reshaped({1, t.dim(0)}) : t;
}

// The model as Python holds it: shared, immutable, usable from many threads at once.
struct PyModel {
  std::shared_ptr<const Model> model;

  // forward and forward_named compare with Hugging Face's float32 outputs: their KV cache is
  // f32 unless asked otherwise (a whole-sequence pass gains nothing from a smaller cache).
  static SessionOptions parity_session(const std::string& kv_type) {
    SessionOptions o;
    o.kv_type = kv_type_from_name(kv_type);
    return o;
  }

  py::array forward(const py::handle& ids, const py::handle& attention_mask, const std::string& kv_type) const {
    bool was_1d = false;
    std::map<std::string, Tensor> inputs;
    inputs["input_ids"] = ids_input(ids, "forward", was_1d);
    if (!attention_mask.is_none()) {
      Tensor mask = tensor_from_numpy(attention_mask, "forward: attention_mask");
      inputs["attention_mask"] = was_1d && mask.rank() == 1 ? mask.reshaped({1, mask.dim(0)}) : mask;
    }
    std::map<std::string, Tensor> out;
    {
      py::gil_scoped_release unlocked;
      out = model->forward_named(inputs, -1, parity_session(kv_type));
    }
    auto logits = out.find("logits");
    if (logits == out.end()) {
      std::string names;
      for (const auto& [name, _] : out) names += (names.empty() ? "" : ", ") + name;
      fail("forward: {} ({}) gives no logits (its outputs: {}); use encode() or forward_named()", model->info().dir,
           model->info().architecture, names);
    }
    Tensor l = logits->second;
    if (was_1d) {
      Shape s(l.shape().begin() + 1, l.shape().end());
      l = l.reshaped(s);
    }
    return numpy_from_tensor(l);
  }

  py::dict forward_named(const py::dict& inputs, int64_t generate_tokens, const std::string& kv_type) const {
    std::map<std::string, Tensor> in;
    for (auto [key, value] : inputs) {
      const std::string name = py::str(key);
      in[name] = tensor_from_numpy(value, "forward_named: input '" + name + "'");
    }
    std::map<std::string, Tensor> out;
    {
      py::gil_scoped_release unlocked;
      out = model->forward_named(in, generate_tokens, parity_session(kv_type));
    }
    py::dict result;
    for (const auto& [name, t] : out) result[py::str(name)] = numpy_from_tensor(t);
    return result;
  }

  py::array encode(const py::handle& ids, const py::handle& attention_mask, const std::optional<std::string>& pooling,
                   bool normalize) const {
    bool was_1d = false;
    Tensor t = ids_input(ids, "encode", was_1d);
    std::optional<Tensor> mask;
    if (!attention_mask.is_none()) {
      mask = tensor_from_numpy(attention_mask, "encode: attention_mask");
      if (was_1d && mask->rank() == 1) mask = mask->reshaped({1, mask->dim(0)});
    }
    if (normalize && !pooling) fail("encode: normalize=True needs pooling ('mean' or 'cls')");
    const std::optional<Pooling> pool = pooling ? std::optional(parse_pooling(*pooling)) : std::nullopt;
    const auto rows = unpad_rows(t, mask ? &*mask : nullptr, "ids");
    const int64_t b = t.dim(0), l = t.dim(1);
    Tensor result;
    {
      py::gil_scoped_release unlocked;
      const Tensor hidden = model->encode(rows);  // [sum of lengths, hidden], rows packed in order
      const int64_t h = hidden.dim(1);
      std::vector<int64_t> lengths;
      for (const auto& r : rows) lengths.push_back(int64_t(r.size()));
      if (pool) {
        result = pool_embeddings(hidden, lengths, *pool, normalize);  // [batch, hidden]
      } else {
        result = Tensor::zeros(DType::F32, {b, l, h});  // padded positions stay zero
        int64_t offset = 0;
        for (int64_t r = 0; r < b; ++r) {
          std::memcpy(result.data<float>() + r * l * h, hidden.data<float>() + offset * h,
                      size_t(lengths[size_t(r)] * h) * sizeof(float));
          offset += lengths[size_t(r)];
        }
      }
    }
    if (was_1d) {
      Shape s(result.shape().begin() + 1, result.shape().end());
      result = result.reshaped(s);
    }
    return numpy_from_tensor(result);
  }

  std::string generate_text(const Tokenizer& tokenizer, const std::string& prompt, std::optional<int64_t> max_new_tokens,
                            std::optional<float> temperature, std::optional<int64_t> top_k, std::optional<float> top_p,
                            std::optional<float> min_p, std::optional<float> repetition_penalty,
                            std::optional<uint64_t> seed, const py::object& stop, bool ignore_eos,
                            const py::object& on_text) const {
    GenerationOptions options = GenerationOptions::for_model(*model);
    SamplingOptions& s = options.sampling;
    if (max_new_tokens) {
      if (*max_new_tokens < 0) fail("generate_text: max_new_tokens must be >= 0, found {}", *max_new_tokens);
      options.max_new_tokens = *max_new_tokens;
    }
    if (top_k) s.top_k = *top_k;
    if (top_p) s.top_p = *top_p;
    if (min_p) s.min_p = *min_p;
    if (repetition_penalty) s.repetition_penalty = *repetition_penalty;
    if (seed) s.seed = *seed;
    // As the tools: asking for a sampling parameter means sampling; temperature 0 means greedy.
    if (top_k || top_p || min_p) s.do_sample = true;
    if (temperature) {
      if (!(*temperature >= 0)) fail("generate_text: temperature must be >= 0 (0: greedy), found {}", *temperature);
      if (*temperature == 0) {
        s.do_sample = false;
      } else {
        s.do_sample = true;
        s.temperature = *temperature;
      }
    }
    if (ignore_eos) options.stop_at_eos = false;
    std::vector<std::string> stops;
    if (py::isinstance<py::str>(stop)) {
      stops.push_back(stop.cast<std::string>());
    } else if (!stop.is_none()) {
      try {
        stops = stop.cast<std::vector<std::string>>();
      } catch (const py::cast_error&) {
        fail("generate_text: stop must be a string or a list of strings, found {}",
             py::cast<std::string>(py::type::handle_of(stop).attr("__name__")));
      }
    }
    // Every piece: let Ctrl-C through (the GIL is off while computing, so Python cannot see
    // it otherwise), then hand the piece to the caller's callback, which may say stop.
    const TextCallback on_piece = [&on_text](std::string_view piece) {
      py::gil_scoped_acquire locked;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (on_text.is_none()) return true;
      py::object keep_going = on_text(to_str(piece));
      return keep_going.is_none() || keep_going.cast<bool>();
    };
    auto session = model->new_session();
    TextGenerationResult result;
    {
      py::gil_scoped_release unlocked;
      result = tessera::generate_text(*model, *session, tokenizer, prompt, options, stops, on_piece);
    }
    return result.text;
  }
};

std::vector<int32_t> checked_ids(const Tokenizer& tokenizer, const std::vector<int64_t>& ids) {
  const int64_t n = int64_t(tokenizer.vocab_size());
  std::vector<int32_t> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= n)
      fail("Tokenizer.decode: id {} at position {} is outside the vocabulary [0, {})", ids[i], i, n);
    out.push_back(int32_t(ids[i]));
  }
  return out;
}

}  // namespace
}  // namespace tessera::python

PYBIND11_MODULE(_tessera, m) {
  using namespace tessera;
  using namespace tessera::python;
  m.doc() = "tessera: transformer models on the CPU (the C++ library's Python bindings)";
  m.attr("__version__") = TESSERA_VERSION;
  py::register_exception<Error>(m, "Error", PyExc_RuntimeError);

  m.def("num_threads", &num_threads, "Threads tessera computes with (TESSERA_THREADS or the hardware count).");
  m.def("set_num_threads", [](int n) {
    if (n < 1) fail("set_num_threads: expected n >= 1, found {}", n);
    set_num_threads(n);
  }, py::arg("n"), "Sets the number of threads tessera computes with (not while a model computes).");

  py::class_<ModelInfo>(m, "ModelInfo", "What a loaded model is (read-only).")
      .def_readonly("family", &ModelInfo::family)
      .def_readonly("architecture", &ModelInfo::architecture)
      .def_readonly("path", &ModelInfo::dir)
      .def_property_readonly("kind", [](const ModelInfo& i) { return kind_name(i.kind); })
      .def_readonly("vocab_size", &ModelInfo::vocab_size)
      .def_readonly("hidden_size", &ModelInfo::hidden_size)
      .def_readonly("num_layers", &ModelInfo::num_layers)
      .def_readonly("max_positions", &ModelInfo::max_positions)
      .def_readonly("eos_token_ids", &ModelInfo::eos_token_ids)
      .def_readonly("bos_token_id", &ModelInfo::bos_token_id)
      .def_readonly("pad_token_id", &ModelInfo::pad_token_id)
      .def_readonly("decoder_start_token_id", &ModelInfo::decoder_start_token_id)
      .def_readonly("weight_dtype", &ModelInfo::weight_dtype)
      .def_readonly("parameters", &ModelInfo::parameters)
      .def_readonly("weight_bytes", &ModelInfo::weight_bytes)
      .def("__repr__", [](const ModelInfo& i) {
        return fmt::format("ModelInfo(family='{}', architecture='{}', kind='{}', vocab_size={}, hidden_size={}, "
                           "num_layers={}, weight_dtype='{}', parameters={})",
                           i.family, i.architecture, kind_name(i.kind), i.vocab_size, i.hidden_size, i.num_layers,
                           i.weight_dtype, i.parameters);
      });

  py::class_<Tokenizer>(m, "Tokenizer", "Text ⇄ token ids from a Hugging Face tokenizer.json.")
      .def_static("from_file", [](const std::string& path) {
        py::gil_scoped_release unlocked;
        return Tokenizer::from_file(path);
      }, py::arg("path"), "Loads tokenizer.json (a file, or a directory holding it and tokenizer_config.json).")
      .def("encode", [](const Tokenizer& t, const std::string& text, bool add_special_tokens) {
        py::gil_scoped_release unlocked;
        return t.encode(text, add_special_tokens).ids;
      }, py::arg("text"), py::arg("add_special_tokens") = true, "Token ids (a list of int) of `text`.")
      .def("encode_batch", [](const Tokenizer& t, const std::vector<std::string>& texts, bool add_special_tokens) {
        py::gil_scoped_release unlocked;
        std::vector<std::vector<int32_t>> out;
        for (auto& e : t.encode_batch(texts, add_special_tokens)) out.push_back(std::move(e.ids));
        return out;
      }, py::arg("texts"), py::arg("add_special_tokens") = true, "encode() of each text, on tessera's threads.")
      .def("decode", [](const Tokenizer& t, const std::vector<int64_t>& ids, bool skip_special_tokens) {
        const std::vector<int32_t> checked = checked_ids(t, ids);
        std::string text;
        {
          py::gil_scoped_release unlocked;
          text = t.decode(checked, skip_special_tokens);
        }
        return to_str(text);
      }, py::arg("ids"), py::arg("skip_special_tokens") = false,
         "The text of `ids` (any sequence of ints); an id outside the vocabulary raises tessera.Error.")
      .def("token_to_id", &Tokenizer::token_to_id, py::arg("token"))
      .def("id_to_token", [](const Tokenizer& t, int64_t id) -> std::optional<std::string> {
        if (id < 0 || id >= int64_t(t.vocab_size())) return std::nullopt;
        return t.id_to_token(int32_t(id));
      }, py::arg("id"), "The vocabulary string of `id`, None outside the vocabulary.")
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def_property_readonly("bos_id", &Tokenizer::bos_id)
      .def_property_readonly("eos_id", &Tokenizer::eos_id)
      .def_property_readonly("pad_id", &Tokenizer::pad_id);

  py::class_<PyModel>(m, "Model", "A loaded model: immutable, safe to use from several threads.")
      .def_property_readonly("info", [](const PyModel& p) { return p.model->info(); })
      .def("forward", &PyModel::forward, py::arg("ids"), py::arg("attention_mask") = py::none(),
           py::arg("kv_type") = "f32",
           "Logits of token ids: 1-D [tokens] → [tokens, vocab]; 2-D [batch, tokens] → [batch, tokens, vocab], each "
           "row an independent sequence (attention_mask: 1 for real tokens, right padding only). kv_type: the KV "
           "cache's type (f32, f16, bf16, q8_0); f32 by default, as Hugging Face computes.")
      .def("forward_named", &PyModel::forward_named, py::arg("inputs"), py::arg("generate_tokens") = -1,
           py::arg("kv_type") = "f32",
           "Hugging Face-named inputs (input_ids, attention_mask, pixel_values, input_features, decoder_input_ids, "
           "...) → Hugging Face-named outputs (logits, last_hidden_state, ...), as tessera-forward (KV cache f32 "
           "unless kv_type says otherwise).")
      .def("encode", &PyModel::encode, py::arg("ids"), py::arg("attention_mask") = py::none(),
           py::arg("pooling") = py::none(), py::arg("normalize") = false,
           "Encoders: last hidden states of token ids ([tokens, hidden], or [batch, tokens, hidden] with zeros at "
           "padding); pooling 'mean' or 'cls' gives one vector per sequence, normalize=True L2-normalises it.")
      .def("generate_text", &PyModel::generate_text, py::arg("tokenizer"), py::arg("prompt"),
           py::arg("max_new_tokens") = py::none(), py::arg("temperature") = py::none(), py::arg("top_k") = py::none(),
           py::arg("top_p") = py::none(), py::arg("min_p") = py::none(), py::arg("repetition_penalty") = py::none(),
           py::arg("seed") = py::none(), py::arg("stop") = py::none(), py::arg("ignore_eos") = false,
           py::arg("on_text") = py::none(),
           "Generates text after `prompt`. Unset options come from the model's generation_config.json; temperature 0 "
           "is greedy, temperature/top_k/top_p/min_p sample (seed makes it reproducible). stop: a string or a list; "
           "the text ends just before the first one found (the stop string is left out). on_text(piece) is called with each new piece of text and may "
           "return False to stop.");

  m.def("load", [](const std::string& path, const std::optional<std::string>& quantize) {
    LoadOptions options;
    if (quantize) options.quantize = quant_type_from_name(*quantize);
    py::gil_scoped_release unlocked;
    return PyModel{load(path, options)};
  }, py::arg("path"), py::arg("quantize") = py::none(),
     "Loads a model: a Hugging Face directory (config.json + *.safetensors) or a GGUF file. quantize: a ggml type "
     "(q8_0, q4_0, q4_k, ...) to quantize float weights to at load.");
}
