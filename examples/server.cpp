// tessera-server: an OpenAI-style HTTP server for one model (llama-server's shape): completions
// and chat completions (streamed as server-sent events), embeddings for encoders, and
// llama-server's /tokenize, /detokenize and /apply-template. Requests run in a fixed set of
// slots (--parallel), each with its own Session of the one shared Model; the rest wait in a
// bounded queue.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "command_line.hpp"
#include "embedding_options.hpp"
#include "model_options.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/serving/completion_request.hpp"
#include "tessera/serving/slot_pool.hpp"
#include "tessera/tessera.hpp"
#include "tessera/text/chat_template.hpp"
#include "version_flag.hpp"

// After tessera's headers: httplib.h brings <resolv.h>, whose _res macro breaks headers that use
// the name (Eigen's did, when tessera's headers included it).
#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace tessera;
using nlohmann::json;

namespace {

// Tokens generated for a request: a response header, and a field of the access log.
const char* const kTokensHeader = "X-Tessera-Generated-Tokens";

// An HTTP status with OpenAI's error object: {"error": {"message", "type", "param", "code"}}.
struct HttpError {
  int status;
  std::string message, type, param, code;
};

json error_body(const HttpError& e) {
  return json{{"error",
               {{"message", e.message},
                {"type", e.type},
                {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

HttpError invalid(const std::string& message, const std::string& param = "", const std::string& code = "") {
  return HttpError{400, message, "invalid_request_error", param, code};
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, const HttpError& e) { send_json(res, e.status, error_body(e)); }

// Compares without an early exit, so the time taken does not tell how much of a guess was right.
bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// cpp-httplib 0.11 does not hand a request's socket to its handler, so the socket is found by
// its two ends (once per request): it is what tells a handler that its client went away while
// the request waits for a slot or generates without writing anything (non-streamed answers).
int connection_fd(const httplib::Request& req) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    if (fd <= 2) continue;
    sockaddr_storage peer{}, local{};
    socklen_t pl = sizeof peer, ll = sizeof local;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0) continue;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
    auto port_of = [](const sockaddr_storage& s) {
      if (s.ss_family == AF_INET) return int(ntohs(reinterpret_cast<const sockaddr_in&>(s).sin_port));
      if (s.ss_family == AF_INET6) return int(ntohs(reinterpret_cast<const sockaddr_in6&>(s).sin6_port));
      return -1;
    };
    if (port_of(peer) == req.remote_port && port_of(local) == req.local_port) {
      found = fd;
      break;
    }
  }
  closedir(dir);
  return found;
}

// True once the peer has closed or reset the connection (a pipelined next request does not count).
bool client_gone(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

std::string random_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  return fmt::format("{}-{:016x}{:04x}", prefix, salt, counter++ & 0xffff);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  int parallel = 4;
  int queue = 64;
  int64_t ctx_size = 0;
  size_t max_body = size_t(4) << 20;
  int64_t max_prompt_tokens = 0;  // 0: the context
  std::string alias;
  std::string chat_template_file;
  int threads = 0;
  std::optional<uint64_t> seed;
};

class Server {
 public:
  Server(std::shared_ptr<const Model> model, Tokenizer tokenizer, const ServerOptions& opt, SlotPool& pool,
         std::string model_id)
      : model_(std::move(model)), tok_(std::move(tokenizer)), opt_(opt), pool_(pool), model_id_(std::move(model_id)),
        defaults_(GenerationOptions::for_model(*model_)), created_(unix_now()) {
    // The chat template is parsed once (a syntax error stops the server at start).
    if (!opt.chat_template_file.empty())
      template_.emplace(read_text_file(opt.chat_template_file), opt.chat_template_file);
    else if (tok_.chat_template())
      template_.emplace(*tok_.chat_template(), model_->info().dir + ": chat_template");
    specials_ = chat_template_special_tokens(tok_);
  }

  void install(httplib::Server& http);

 private:
  bool is_decoder() const { return model_->info().kind == ModelKind::Decoder; }
  void require_decoder(const char* what) const {
    if (!is_decoder())
      throw HttpError{400, fmt::format("{} needs a decoder model; {} is {} ({})", what, model_id_, model_->info().family,
                                       model_->info().architecture),
                      "invalid_request_error", "model", "model_not_supported"};
  }
  json parse_body(const httplib::Request& req) const;
  std::vector<int32_t> prompt_ids(const CompletionRequest& r, const std::string& body) const;
  std::string render_chat(const std::string& body) const;
  void completion(const httplib::Request& req, httplib::Response& res, RequestKind kind);
  void embeddings(const httplib::Request& req, httplib::Response& res);
  json logprobs_json(const std::vector<TokenLogprobs>& lps, RequestKind kind) const;

  std::shared_ptr<const Model> model_;
  Tokenizer tok_;
  ServerOptions opt_;
  SlotPool& pool_;
  std::string model_id_;
  GenerationOptions defaults_;
  int64_t created_;
  std::optional<ChatTemplate> template_;
  nlohmann::ordered_json specials_;
};

json Server::parse_body(const httplib::Request& req) const {
  try {
    return parse_json(req.body, "the request body", 64);
  } catch (const Error& e) {
    throw invalid(fmt::format("malformed JSON: {}", e.what()), "", "invalid_json");
  }
}

// The chat template of the model's tokenizer, rendered for the request's messages.
std::string Server::render_chat(const std::string& body) const {
  if (!template_)
    throw invalid(fmt::format("{} has no chat template (tokenizer_config.json has no \"chat_template\"); start the "
                              "server with --chat-template FILE",
                              model_id_),
                  "messages", "no_chat_template");
  // Parsed again keeping the key order, which a template's tojson shows (the body was checked already).
  const auto doc = nlohmann::ordered_json::parse(body);
  try {
    return template_->render(chat_template_context(doc.at("messages"), true, specials_));
  } catch (const Error& e) {
    throw invalid(e.what(), "messages", "chat_template_error");  // e.g. the template's raise_exception
  }
}

std::vector<int32_t> Server::prompt_ids(const CompletionRequest& r, const std::string& body) const {
  std::vector<int32_t> ids;
  if (r.prompt_ids) {
    ids = *r.prompt_ids;
    const int64_t vocab = model_->info().vocab_size;
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] >= vocab) throw invalid(fmt::format("prompt[{}] = {} is not a token id (vocabulary: {})", i, ids[i], vocab), "prompt");
  } else {
    const std::string text = r.messages.empty() ? r.prompt : render_chat(body);
    try {
      ids = tok_.encode(text, false).ids;
    } catch (const Error& e) {
      throw invalid(e.what(), r.messages.empty() ? "prompt" : "messages");
    }
  }
  if (ids.empty()) {
    std::optional<int32_t> bos = tok_.bos_id();
    if (model_->info().bos_token_id) bos = int32_t(*model_->info().bos_token_id);
    if (!bos) throw invalid("the prompt is empty and the model names no BOS token to start from", "prompt");
    ids.push_back(*bos);
  }
  const int64_t n = int64_t(ids.size()), cap = pool_.capacity();
  const int64_t limit = opt_.max_prompt_tokens > 0 ? std::min(opt_.max_prompt_tokens, cap) : cap;
  if (n > limit)
    throw invalid(fmt::format("the prompt has {} tokens; this server takes at most {} (context: {})", n, limit, cap),
                  r.messages.empty() ? "prompt" : "messages", "context_length_exceeded");
  return ids;
}

json Server::logprobs_json(const std::vector<TokenLogprobs>& lps, RequestKind kind) const {
  auto piece = [&](int32_t id) { return tok_.decode({id}); };
  if (kind == RequestKind::Completion) {
    json tokens = json::array(), values = json::array(), tops = json::array(), offsets = json::array();
    size_t offset = 0;
    for (const auto& t : lps) {
      const std::string p = piece(t.token);
      tokens.push_back(p);
      values.push_back(t.logprob);
      offsets.push_back(offset);
      offset += p.size();
      json top = json::object();
      for (const auto& [id, lp] : t.top) top[piece(id)] = lp;
      tops.push_back(top);
    }
    return json{{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
  }
  auto entry = [&](int32_t id, float lp) {
    const std::string p = piece(id);
    return json{{"token", p}, {"logprob", lp}, {"bytes", std::vector<int>(p.begin(), p.end())}};
  };
  json content = json::array();
  for (const auto& t : lps) {
    json e = entry(t.token, t.logprob);
    e["top_logprobs"] = json::array();
    for (const auto& [id, lp] : t.top) e["top_logprobs"].push_back(entry(id, lp));
    content.push_back(e);
  }
  return json{{"content", content}};
}

void Server::completion(const httplib::Request& req, httplib::Response& res, RequestKind kind) {
  require_decoder(kind == RequestKind::Chat ? "/v1/chat/completions" : "/v1/completions");
  const json body = parse_body(req);
  CompletionRequest r;
  try {
    // Without a seed (here or --seed) every request samples differently, as OpenAI's API.
    r = parse_completion_request(body, kind, defaults_, RequestLimits{}, opt_.seed ? *opt_.seed : std::random_device{}());
  } catch (const RequestError& e) {
    throw invalid(e.what(), e.param());
  }
  if (r.stream && r.generation.top_logprobs >= 0)
    throw invalid("logprobs are not available with stream: true (ask without streaming)", "logprobs");
  const std::vector<int32_t> ids = prompt_ids(r, req.body);
  const int64_t room = pool_.capacity() - int64_t(ids.size());
  if (r.generation.max_new_tokens < 0) r.generation.max_new_tokens = room + 1;  // until EOS or the context is full
  else if (r.generation.max_new_tokens > room + 1)
    throw invalid(fmt::format("the prompt has {} tokens and max_tokens is {}, but the context holds {}", ids.size(),
                              r.generation.max_new_tokens, pool_.capacity()),
                  "max_tokens", "context_length_exceeded");
  try {
    Sampler check(r.generation.sampling);  // refuses combinations the parser let through
  } catch (const Error& e) {
    throw invalid(e.what());
  }

  const int fd = connection_fd(req);
  auto acquired = pool_.acquire([fd] { return client_gone(fd); });
  if (auto* refusal = std::get_if<SlotPool::Refusal>(&acquired)) {
    if (*refusal == SlotPool::Refusal::QueueFull) {
      res.set_header("Retry-After", "1");
      throw HttpError{503, fmt::format("the server is busy: {} requests run and {} wait, the most it queues", pool_.slots(),
                                       pool_.waiting()),
                      "server_error", "", "queue_full"};
    }
    res.status = 499;  // the client went away while waiting (nginx's code; nobody reads it)
    return;
  }
  auto lease = std::make_shared<SlotPool::Lease>(std::move(std::get<SlotPool::Lease>(acquired)));

  const std::string id = random_id(kind == RequestKind::Chat ? "chatcmpl" : "cmpl");
  const char* object = kind == RequestKind::Chat ? "chat.completion" : "text_completion";
  auto finish_reason = [](const TextGenerationResult& t) {
    return t.stopped_by_string || t.generation.stop == GenerationResult::Stop::Eos ? "stop" : "length";
  };
  auto usage = [p = int64_t(ids.size())](const TextGenerationResult& t) {
    const int64_t c = int64_t(t.generation.tokens.size());
    return json{{"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}};
  };

  if (!r.stream) {
    TextGenerationResult t = generate_text(*model_, lease->session(), tok_, ids, r.generation, r.stop,
                                           [fd](std::string_view) { return !client_gone(fd); });
    res.set_header(kTokensHeader, std::to_string(t.generation.tokens.size()));
    if (t.generation.stop == GenerationResult::Stop::Callback && !t.stopped_by_string) {
      res.status = 499;
      return;
    }
    json choice = {{"index", 0}, {"finish_reason", finish_reason(t)}};
    if (kind == RequestKind::Chat) {
      choice["message"] = {{"role", "assistant"}, {"content", t.text}};
      choice["logprobs"] = r.generation.top_logprobs >= 0 ? logprobs_json(t.generation.logprobs, kind) : json(nullptr);
    } else {
      choice["text"] = t.text;
      choice["logprobs"] = r.generation.top_logprobs >= 0 ? logprobs_json(t.generation.logprobs, kind) : json(nullptr);
    }
    send_json(res, 200,
              json{{"id", id}, {"object", object}, {"created", unix_now()}, {"model", model_id_},
                   {"choices", json::array({choice})}, {"usage", usage(t)}});
    return;
  }

  // Server-sent events: one chunk per piece of text, a last chunk with the finish reason,
  // optionally one with usage, then [DONE]. A failed write means the client left: stop.
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      // `res` outlives the provider (cpp-httplib calls it while writing `res`, then logs `res`):
      // the status and token count set here after the headers went out reach only the access log.
      [this, &res, r = std::move(r), ids, lease, fd, id, kind, finish_reason, usage](size_t, httplib::DataSink& sink) {
        const int64_t created = unix_now();
        const char* chunk_object = kind == RequestKind::Chat ? "chat.completion.chunk" : "text_completion";
        auto chunk = [&](const json& choice) {
          return json{{"id", id}, {"object", chunk_object}, {"created", created}, {"model", model_id_},
                      {"choices", json::array({choice})}};
        };
        auto send = [&](const json& j) {
          const std::string line = "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
          return sink.write(line.data(), line.size()) && !client_gone(fd);
        };
        auto piece_choice = [&](std::string_view text, const json& finish) {
          if (kind == RequestKind::Chat)
            return json{{"index", 0}, {"delta", {{"content", text}}}, {"logprobs", nullptr}, {"finish_reason", finish}};
          return json{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}};
        };
        if (kind == RequestKind::Chat &&
            !send(chunk(json{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr},
                             {"finish_reason", nullptr}})))
          return false;
        bool connected = true;
        TextGenerationResult t;
        try {
          t = generate_text(*model_, lease->session(), tok_, ids, r.generation, r.stop,
                            [&](std::string_view piece) { return connected = send(chunk(piece_choice(piece, nullptr))); });
        } catch (const std::exception& e) {
          send(error_body(HttpError{500, e.what(), "server_error", "", ""}));
          res.status = 500;
          return false;
        }
        res.set_header(kTokensHeader, std::to_string(t.generation.tokens.size()));
        if (!connected) {
          res.status = 499;
          return false;
        }
        json last = kind == RequestKind::Chat
                        ? json{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", finish_reason(t)}}
                        : piece_choice("", finish_reason(t));
        if (!send(chunk(last))) return false;
        if (r.include_usage) {
          json u = chunk(json::object());
          u["choices"] = json::array();
          u["usage"] = usage(t);
          if (!send(u)) return false;
        }
        static const std::string done = "data: [DONE]\n\n";
        if (!sink.write(done.data(), done.size())) return false;
        sink.done();
        return true;
      });
}

void Server::embeddings(const httplib::Request& req, httplib::Response& res) {
  if (model_->info().kind != ModelKind::Encoder)
    throw HttpError{400, fmt::format("/v1/embeddings needs an encoder model (BERT, RoBERTa); {} is a {} model", model_id_,
                                     model_->info().family),
                    "invalid_request_error", "model", "model_not_supported"};
  const json body = parse_body(req);
  if (!body.is_object()) throw invalid("the request body must be a JSON object");
  auto it = body.find("input");
  if (it == body.end() || it->is_null()) throw invalid("'input' is required", "input");
  if (body.contains("encoding_format") && body["encoding_format"] != "float")
    throw invalid("only encoding_format \"float\" is supported", "encoding_format");
  // input: a string, a list of strings, a list of ids, or a list of lists of ids.
  std::vector<std::vector<int32_t>> batch;
  const int64_t vocab = model_->info().vocab_size;
  auto ids_of = [&](const json& arr, const std::string& where) {
    std::vector<int32_t> ids;
    for (const auto& t : arr) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= vocab)
        throw invalid(fmt::format("'{}' holds {}, not a token id below {}", where, t.dump(), vocab), "input");
      ids.push_back(int32_t(t.get<int64_t>()));
    }
    return ids;
  };
  auto text_ids = [&](const json& s) {
    try {
      return tok_.encode(s.get<std::string>(), true).ids;
    } catch (const Error& e) {
      throw invalid(e.what(), "input");
    }
  };
  const json& in = *it;
  if (in.is_string()) batch.push_back(text_ids(in));
  else if (in.is_array() && !in.empty() && in[0].is_number()) batch.push_back(ids_of(in, "input"));
  else if (in.is_array() && !in.empty()) {
    if (in.size() > 2048) throw invalid(fmt::format("'input' holds {} items; at most 2048 are accepted", in.size()), "input");
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i].is_string()) batch.push_back(text_ids(in[i]));
      else if (in[i].is_array()) batch.push_back(ids_of(in[i], fmt::format("input[{}]", i)));
      else throw invalid(fmt::format("'input[{}]' must be a string or a list of token ids", i), "input");
    }
  } else {
    throw invalid("'input' must be a string, a list of strings or a list of token ids", "input");
  }
  std::vector<int64_t> lengths;
  int64_t total = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].empty()) throw invalid(fmt::format("'input[{}]' is empty", i), "input");
    if (model_->info().max_positions > 0 && int64_t(batch[i].size()) > model_->info().max_positions)
      throw invalid(fmt::format("'input[{}]' has {} tokens; the model takes at most {}", i, batch[i].size(),
                                model_->info().max_positions),
                    "input", "context_length_exceeded");
    lengths.push_back(int64_t(batch[i].size()));
    total += lengths.back();
  }
  const int fd = connection_fd(req);
  auto acquired = pool_.acquire([fd] { return client_gone(fd); });
  if (std::holds_alternative<SlotPool::Refusal>(acquired)) {
    if (std::get<SlotPool::Refusal>(acquired) == SlotPool::Refusal::Cancelled) return void(res.status = 499);
    throw HttpError{503, "the server is busy", "server_error", "", "queue_full"};
  }
  const std::string& dir = model_->info().dir;
  Tensor pooled = pool_embeddings(model_->encode(batch), lengths,
                                  parse_pooling(tools::pooling_from_model(dir).value_or("mean")),
                                  tools::normalize_from_model(dir));
  json data = json::array();
  for (int64_t i = 0; i < pooled.dim(0); ++i) {
    const float* v = pooled.data<float>() + i * pooled.dim(1);
    data.push_back(json{{"object", "embedding"}, {"index", i}, {"embedding", std::vector<float>(v, v + pooled.dim(1))}});
  }
  send_json(res, 200,
            json{{"object", "list"}, {"data", data}, {"model", model_id_},
                 {"usage", {{"prompt_tokens", total}, {"total_tokens", total}}}});
}

void Server::install(httplib::Server& http) {
  // Every handler's HttpError becomes OpenAI's error object; anything else is a 500.
  auto guard = [](auto fn) {
    return [fn](const httplib::Request& req, httplib::Response& res) {
      try {
        fn(req, res);
      } catch (const HttpError& e) {
        send_error(res, e);
      } catch (const std::exception& e) {
        send_error(res, HttpError{500, e.what(), "server_error", "", ""});
      }
    };
  };
  http.Get("/health", guard([](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); }));
  auto models = [this](const httplib::Request&, httplib::Response& res) {
    const ModelInfo& i = model_->info();
    send_json(res, 200,
              json{{"object", "list"},
                   {"data", json::array({json{{"id", model_id_},
                                              {"object", "model"},
                                              {"created", created_},
                                              {"owned_by", "tessera"},
                                              {"meta",
                                               {{"family", i.family},
                                                {"architecture", i.architecture},
                                                {"n_params", i.parameters},
                                                {"n_vocab", i.vocab_size},
                                                {"n_ctx", pool_.capacity()},
                                                {"weight_dtype", i.weight_dtype}}}}})}});
  };
  http.Get("/v1/models", guard(models));
  http.Get("/models", guard(models));
  http.Post("/v1/completions", guard([this](const auto& req, auto& res) { completion(req, res, RequestKind::Completion); }));
  http.Post("/completions", guard([this](const auto& req, auto& res) { completion(req, res, RequestKind::Completion); }));
  http.Post("/v1/chat/completions", guard([this](const auto& req, auto& res) { completion(req, res, RequestKind::Chat); }));
  http.Post("/chat/completions", guard([this](const auto& req, auto& res) { completion(req, res, RequestKind::Chat); }));
  http.Post("/v1/embeddings", guard([this](const auto& req, auto& res) { embeddings(req, res); }));
  http.Post("/embeddings", guard([this](const auto& req, auto& res) { embeddings(req, res); }));

  http.Post("/tokenize", guard([this](const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    if (!body.is_object() || !body.contains("content") || !body["content"].is_string())
      throw invalid("'content' (a string) is required", "content");
    auto flag = [&](const char* key) {
      if (!body.contains(key) || body[key].is_null()) return false;
      if (!body[key].is_boolean()) throw invalid(fmt::format("'{}' must be a boolean", key), key);
      return body[key].get<bool>();
    };
    const bool add_special = flag("add_special"), with_pieces = flag("with_pieces");
    Encoding e;
    try {
      e = tok_.encode(body["content"].get<std::string>(), add_special);
    } catch (const Error& err) {
      throw invalid(err.what(), "content");
    }
    json tokens = json::array();
    for (int32_t t : e.ids)
      tokens.push_back(with_pieces ? json{{"id", t}, {"piece", tok_.decode({t})}} : json(t));
    send_json(res, 200, {{"tokens", tokens}});
  }));
  http.Post("/detokenize", guard([this](const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    if (!body.is_object() || !body.contains("tokens") || !body["tokens"].is_array())
      throw invalid("'tokens' (an array of token ids) is required", "tokens");
    std::vector<int32_t> ids;
    const auto n = int64_t(tok_.vocab_size());
    for (const auto& t : body["tokens"]) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= n)
        throw invalid(fmt::format("'tokens' holds {}, not a token id below {}", t.dump(), n), "tokens");
      ids.push_back(int32_t(t.get<int64_t>()));
    }
    send_json(res, 200, {{"content", tok_.decode(ids)}});
  }));
  http.Post("/apply-template", guard([this](const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    if (!body.is_object() || !body.contains("messages")) throw invalid("'messages' is required", "messages");
    try {
      parse_chat_messages(body["messages"]);
    } catch (const RequestError& e) {
      throw invalid(e.what(), e.param());
    }
    send_json(res, 200, {{"prompt", render_chat(req.body)}});
  }));

  // Errors cpp-httplib answers itself (unknown route, body too large) get the same error object.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404)
      send_error(res, HttpError{404, fmt::format("no route {} {}", req.method, req.path), "invalid_request_error", "", "not_found"});
    else if (res.status == 413)
      send_error(res, HttpError{413, "the request body is larger than this server accepts (--max-body)",
                                "invalid_request_error", "", "request_too_large"});
    else
      send_error(res, HttpError{res.status, fmt::format("HTTP {}", res.status), "invalid_request_error", "", ""});
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, HttpError{500, what, "server_error", "", ""});
  });
  if (!opt_.api_key.empty()) {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
      if (equal_constant_time(req.get_header_value("Authorization"), "Bearer " + opt_.api_key))
        return httplib::Server::HandlerResponse::Unhandled;
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, HttpError{401, "invalid or missing API key (send Authorization: Bearer KEY)", "authentication_error",
                                "", "invalid_api_key"});
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  // One line per request on stderr, after the response (streams included): address, request,
  // status (499: the client left before the end), bytes of a non-streamed body, tokens generated.
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    const std::string line =
        fmt::format("{} \"{} {}\" {} {} bytes{}\n", req.remote_addr, req.method, req.path, res.status, res.body.size(),
                    res.has_header(kTokensHeader) ? fmt::format(", {} tokens", res.get_header_value(kTokensHeader)) : "");
    std::fwrite(line.data(), 1, line.size(), stderr);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Serve a model over HTTP with OpenAI's API (and llama-server's /tokenize, /detokenize, /apply-template).\n"
               "Endpoints: GET /health, GET /v1/models, POST /v1/completions, POST /v1/chat/completions,\n"
               "POST /v1/embeddings (encoders), POST /tokenize, /detokenize, /apply-template.\n"
               "SIGTERM or SIGINT stops accepting connections, finishes the requests in flight, and exits 0.\n"
               "Exit codes: 0 stopped by a signal, 1 error (message on stderr), 2 bad command line.",
               "tessera-server"};
  tools::ModelOptions mo;
  ServerOptions so;
  tools::add_model_options(app, mo, "the model");
  tools::add_kv_type_option(app, mo);
  app.add_option("--host", so.host, "address to listen on (default 127.0.0.1: this machine only)");
  app.add_option("--port", so.port, "port (default 8080; 0 picks a free one, printed on stderr)")->check(CLI::Range(0, 65535));
  app.add_option("--api-key", so.api_key, "require 'Authorization: Bearer KEY' on every route but /health");
  app.add_option("--parallel", so.parallel, "requests generated at once, each in its own session (default 4)")
      ->check(CLI::Range(1, 256));
  app.add_option("--queue", so.queue, "requests that may wait for a slot; more are refused with 503 (default 64)")
      ->check(CLI::Range(0, 4096));
  app.add_option("-c,--ctx-size", so.ctx_size, "context of each slot in tokens (default: the model's)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-body", so.max_body, "largest request body in bytes (default 4 MiB; larger: 413)");
  app.add_option("--max-prompt-tokens", so.max_prompt_tokens, "longest prompt in tokens (default: the context)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--alias", so.alias, "model name reported by /v1/models (default: the model path's last part)");
  app.add_option("--chat-template", so.chat_template_file,
                 "Jinja chat template file for /v1/chat/completions and /apply-template (default: the tokenizer's)");
  app.add_option("--seed", so.seed, "sampling seed of requests that give none (default: a random one per request)");
  app.add_option("-t,--threads", so.threads, "threads of the compute pool (default: all cores)");
  tessera::tools::add_version_flag(app, "tessera-server");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);

  // SIGTERM and SIGINT are taken by one thread (sigwait), so every other thread starts with them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that left must not kill the server

  try {
    if (so.threads > 0) set_num_threads(so.threads);
    auto model = load(mo.path, mo.load_options());
    auto tokenizer = Tokenizer::from_file(mo.path);
    SessionOptions sopt = mo.session_options();
    sopt.max_context = so.ctx_size;
    SlotPool pool(*model, so.parallel, so.queue, sopt);
    std::string id = so.alias;
    if (id.empty()) {
      std::string p = mo.path;
      while (p.size() > 1 && p.back() == '/') p.pop_back();
      id = p.substr(p.find_last_of('/') == std::string::npos ? 0 : p.find_last_of('/') + 1);
    }
    Server server(model, std::move(tokenizer), so, pool, id);
    httplib::Server http;
    // Connections beyond the slots and the queue still get a thread, so /health answers under load.
    const size_t threads = size_t(so.parallel + so.queue + 8);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(so.max_body);
    http.set_read_timeout(30);
    http.set_write_timeout(30);
    server.install(http);

    int port = so.port;
    if (port == 0) port = http.bind_to_any_port(so.host);
    else if (!http.bind_to_port(so.host, port)) port = -1;
    if (port < 0) fail("cannot listen on {}:{} (in use, or not an address of this machine)", so.host, so.port);
    fmt::print(stderr, "tessera-server: {} ({}, {} slots of {} tokens) listening on http://{}:{}\n", id,
               model->info().family, so.parallel, pool.capacity(), so.host, port);
    std::fflush(stderr);

    std::atomic<bool> signalled{false};
    std::thread waiter([&http, &signalled, stop_signals] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      signalled = true;
      fmt::print(stderr, "tessera-server: {} received: finishing the requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      http.stop();
    });
    http.listen_after_bind();  // returns after stop(), once every connection's thread has finished
    if (!signalled) kill(getpid(), SIGTERM);  // listening failed without a signal: wake the waiter
    waiter.join();
    fmt::print(stderr, "tessera-server: stopped\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-server: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
