// tessera-generate: stream text from a decoder model and a prompt, then report prompt and
// generation speed.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "command_line.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/generation/text_generation.hpp"
#include "tessera/text/chat_template.hpp"
#include "model_options.hpp"
#include "tessera/tessera.hpp"
#include "version_flag.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  CLI::App app{"Generate text with a decoder model: a Hugging Face directory (config.json + *.safetensors + tokenizer.json)\nor a GGUF file.\n"
               "Sampling defaults come from the model's generation_config.json (greedy when it says nothing);\n"
               "any flag given here overrides them.",
               "tessera-generate"};
  tools::ModelOptions mo;
  std::string& dir = mo.path;
  std::string prompt = "";
  int64_t max_new = -1;
  int threads = 0;
  std::optional<float> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k;
  std::optional<uint64_t> seed;
  std::vector<std::string> stops;
  bool greedy = false, sample = false, no_stats = false, ignore_eos = false, chat = false;
  std::string chat_template_file;
  tools::add_model_options(app, mo, "the model");
  tools::add_kv_type_option(app, mo);
  tools::add_depth_options(app, mo);
  app.add_option("-p,--prompt", prompt, "prompt text (default: empty, i.e. start from BOS)");
  app.add_option("-n,--max-new-tokens", max_new, "tokens to generate (default: generation_config.json or 128)");
  app.add_flag("--greedy", greedy, "always take the most likely token");
  app.add_flag("--sample", sample, "sample (implied by --temperature/--top-k/--top-p/--min-p)");
  app.add_option("--temperature", temperature, "sampling temperature (0: greedy)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            char* end = nullptr;
            const double t = std::strtod(v.c_str(), &end);
            return end != v.c_str() && *end == '\0' && t >= 0 ? "" : "expected a number >= 0 (0: greedy), found " + v;
          },
          "NUMBER >= 0"));
  app.add_option("--top-k", top_k, "keep the k most likely tokens (0: off)");
  app.add_option("--top-p", top_p, "nucleus sampling mass (1: off)");
  app.add_option("--min-p", min_p, "drop tokens below min-p × the top probability (0: off)");
  app.add_option("--repetition-penalty", repetition_penalty, "penalise tokens already seen (1: off)");
  app.add_option("--seed", seed, "random seed for sampling (default 0)");
  tools::one_value_per_flag(app.add_option("--stop", stops,
                                           "stop before this string: it and what follows are not printed (repeatable)"));
  app.add_flag("--ignore-eos", ignore_eos, "keep going after the end-of-sequence token");
  app.add_flag("--chat", chat,
               "chat: each line of standard input is a user turn; the conversation goes through the\n"
               "model's chat template and each reply is printed on its own line");
  app.add_option("--chat-template", chat_template_file, "Jinja chat template file to use instead of the tokenizer's (--chat)");
  app.add_option("-t,--threads", threads, "threads (default: all cores)");
  app.add_flag("--no-stats", no_stats, "do not print the speed line at the end");
  tessera::tools::add_version_flag(app, "tessera-generate");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    auto model = tools::load_model(mo);
    if (model->info().kind != ModelKind::Decoder)
      fail("{}: tessera-generate needs a decoder model; this is {} ({})", dir, model->info().family,
           model->info().architecture);
    auto tok = Tokenizer::from_file(dir);
    GenerationOptions opt = GenerationOptions::for_model(*model);
    if (max_new >= 0) opt.max_new_tokens = max_new;
    SamplingOptions& s = opt.sampling;
    if (temperature) s.temperature = *temperature;
    if (top_k) s.top_k = *top_k;
    if (top_p) s.top_p = *top_p;
    if (min_p) s.min_p = *min_p;
    if (repetition_penalty) s.repetition_penalty = *repetition_penalty;
    if (seed) s.seed = *seed;
    if (sample || temperature || top_k || top_p || min_p) s.do_sample = true;
    if (greedy) s.do_sample = false;
    opt.stop_at_eos = !ignore_eos;

    if (chat) {
      std::string source;
      if (!chat_template_file.empty()) source = read_text_file(chat_template_file);
      else if (tok.chat_template()) source = *tok.chat_template();
      else fail("{}: the tokenizer has no chat template (tokenizer_config.json has no \"chat_template\"); give one with --chat-template FILE", dir);
      const ChatTemplate tpl(source, chat_template_file.empty() ? dir + ": chat_template" : chat_template_file);
      const nlohmann::ordered_json specials = chat_template_special_tokens(tok);
      nlohmann::ordered_json messages = nlohmann::ordered_json::array();
      for (std::string line; std::getline(std::cin, line);) {
        messages.push_back({{"role", "user"}, {"content", line}});
        const std::string rendered = tpl.render(chat_template_context(messages, true, specials));
        auto turn = model->new_session(mo.session_options());
        auto r = generate_text(*model, *turn, tok, rendered, opt, stops, [](std::string_view piece) {
          fmt::print("{}", piece);
          std::fflush(stdout);
          return true;
        });
        fmt::print("\n");
        std::fflush(stdout);
        messages.push_back({{"role", "assistant"}, {"content", r.text}});
      }
      return 0;
    }
    auto session = model->new_session(mo.session_options());
    fmt::print("{}", prompt);
    std::fflush(stdout);
    auto r = generate_text(*model, *session, tok, prompt, opt, stops, [](std::string_view piece) {
      fmt::print("{}", piece);
      std::fflush(stdout);
      return true;
    });
    fmt::print("\n");
    const GenerationResult& result = r.generation;
    // generate() stops early when the session has no room left; say so rather than let a
    // short answer look like the model's choice.
    if (result.stop == GenerationResult::Stop::MaxTokens && int64_t(result.tokens.size()) < opt.max_new_tokens)
      fmt::print(stderr, "tessera-generate: stopped after {} tokens: the context is full ({} positions, prompt included)\n",
                 result.tokens.size(), session->capacity());
    if (!no_stats) {
      const double pp = result.prompt_seconds > 0 ? double(result.prompt_tokens) / result.prompt_seconds : 0;
      const double tg = result.generation_seconds > 0 ? double(result.tokens.size()) / result.generation_seconds : 0;
      fmt::print(stderr, "\n[prompt: {} tokens, {:.1f} tokens/s | generation: {} tokens, {:.1f} tokens/s | {} threads]\n",
                 result.prompt_tokens, pp, result.tokens.size(), tg, num_threads());
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera-generate: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
