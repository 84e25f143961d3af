// nll.cpp - reference numbers for tessera's GGUF tests, computed by llama.cpp itself.
//
// Loads a GGUF with libllama and prints, as one JSON object on stdout:
//   "nll"    : mean next-token negative log-likelihood over the ids in EVAL_IDS,
//              i.e. mean over i in [0, n-1) of -log softmax(logits(ids[0..i]))[ids[i+1]],
//              with all n ids evaluated in ONE llama_decode call (all logits requested);
//   "greedy" : the N_GEN ids llama.cpp picks by argmax after the ids in PROMPT_IDS
//              (prompt decoded in one batch, then one token per llama_decode, fresh KV cache).
// Everything runs on 1 thread with llama.cpp's default context settings otherwise
// (F16 KV cache, flash attention "auto").
//
// Id files: any text containing the ids as decimal integers (JSON array, one per line, ...);
// every run of digits is one id.
//
// Build by hand (not part of tessera's build), against a built llama.cpp tree $L:
//   g++ -O2 -std=c++17 nll.cpp -I$L/include -I$L/ggml/include -L$L/build/bin -lllama -lggml -lggml-base
//       (continued) -Wl,-rpath,$L/build/bin -o nll
// Usage: nll [--fa on|off|auto] [--kv f16|f32] [--no-repack] [--recompute] [-t N] [--logits FILE]
//            MODEL.gguf EVAL_IDS PROMPT_IDS [N_GEN=64]
// --logits FILE also writes every logit of the NLL pass, [n_eval, n_vocab] little-endian f32.

#include "llama.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::vector<llama_token> read_ids(const char * path) {
    std::ifstream in(path);
    if (!in) { std::fprintf(stderr, "cannot open %s\n", path); std::exit(1); }
    std::stringstream ss; ss << in.rdbuf();
    const std::string s = ss.str();
    std::vector<llama_token> ids;
    for (size_t i = 0; i < s.size();) {
        if (std::isdigit((unsigned char) s[i])) {
            long v = 0;
            while (i < s.size() && std::isdigit((unsigned char) s[i])) v = v * 10 + (s[i++] - '0');
            ids.push_back((llama_token) v);
        } else {
            ++i;
        }
    }
    if (ids.empty()) { std::fprintf(stderr, "no ids in %s\n", path); std::exit(1); }
    return ids;
}

static void quiet_log(ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

// Knobs for checking which settings reproduce a given set of numbers (defaults = llama.cpp's defaults).
struct Options {
    int fa = -1;          // -1 auto, 0 off, 1 on
    bool kv_f32 = false;  // K/V cache in F32 instead of F16
    int threads = 1;
    bool repack = true;
    bool recompute = false; // greedy: re-decode prompt+generated ids from scratch each step (no KV cache reuse)   // llama.cpp's default: weights may be repacked into CPU "extra" buffer types
    const char * logits_path = nullptr;
};
static Options g_opt;

static llama_context * make_context(llama_model * model, int n_ctx) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_batch = n_ctx;
    cp.n_ubatch = n_ctx;     // one physical batch: the whole eval sequence in one graph
    cp.n_seq_max = 1;
    cp.n_threads = g_opt.threads;
    cp.n_threads_batch = g_opt.threads;
    cp.flash_attn_type = g_opt.fa < 0 ? LLAMA_FLASH_ATTN_TYPE_AUTO
                       : g_opt.fa == 0 ? LLAMA_FLASH_ATTN_TYPE_DISABLED : LLAMA_FLASH_ATTN_TYPE_ENABLED;
    if (g_opt.kv_f32) { cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32; }
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { std::fprintf(stderr, "llama_init_from_model failed\n"); std::exit(1); }
    return ctx;
}

// Decodes ids[0..n) at positions start.. ; if all_logits, every position outputs logits, else only the last.
static void decode(llama_context * ctx, const llama_token * ids, int n, int start, bool all_logits) {
    llama_batch b = llama_batch_init(n, 0, 1);
    b.n_tokens = n;
    for (int i = 0; i < n; ++i) {
        b.token[i] = ids[i];
        b.pos[i] = start + i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = all_logits || i == n - 1;
    }
    if (llama_decode(ctx, b) != 0) { std::fprintf(stderr, "llama_decode failed\n"); std::exit(1); }
    llama_batch_free(b);
}

static int argmax(const float * x, int n) {
    int best = 0;
    for (int i = 1; i < n; ++i) if (x[i] > x[best]) best = i;
    return best;
}

int main(int argc, char ** argv) {
    // Options first: --fa on|off|auto, --kv f16|f32, -t N; then the positional arguments.
    std::vector<char *> pos;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--fa" && i + 1 < argc) {
            const std::string v = argv[++i];
            g_opt.fa = v == "on" ? 1 : v == "off" ? 0 : -1;
        } else if (a == "--kv" && i + 1 < argc) {
            g_opt.kv_f32 = std::string(argv[++i]) == "f32";
        } else if (a == "--recompute") {
            g_opt.recompute = true;
        } else if (a == "--no-repack") {
            g_opt.repack = false;
        } else if (a == "--logits" && i + 1 < argc) {
            g_opt.logits_path = argv[++i];
        } else if (a == "-t" && i + 1 < argc) {
            g_opt.threads = std::atoi(argv[++i]);
        } else {
            pos.push_back(argv[i]);
        }
    }
    if (pos.size() < 3) {
        std::fprintf(stderr, "usage: %s [--fa on|off|auto] [--kv f16|f32] [--no-repack] [--recompute] [-t N] MODEL.gguf EVAL_IDS PROMPT_IDS [N_GEN=64]\n", argv[0]);
        return 1;
    }
    const char * model_path = pos[0];
    const int n_gen = pos.size() > 3 ? std::atoi(pos[3]) : 64;
    const std::vector<llama_token> eval = read_ids(pos[1]);
    const std::vector<llama_token> prompt = read_ids(pos[2]);

    llama_log_set(quiet_log, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.use_extra_bufts = g_opt.repack;
    llama_model * model = llama_model_load_from_file(model_path, mp);
    if (!model) { std::fprintf(stderr, "cannot load %s\n", model_path); return 1; }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    int n_ctx = 512;
    while (n_ctx < (int) eval.size() || n_ctx < (int) prompt.size() + n_gen) n_ctx *= 2;

    // NLL: one batch, all logits.
    double nll_sum = 0.0;
    {
        llama_context * ctx = make_context(model, n_ctx);
        decode(ctx, eval.data(), (int) eval.size(), 0, true);
        if (g_opt.logits_path) {
            FILE * out = std::fopen(g_opt.logits_path, "wb");
            if (!out) { std::fprintf(stderr, "cannot write %s\n", g_opt.logits_path); return 1; }
            for (size_t i = 0; i < eval.size(); ++i) std::fwrite(llama_get_logits_ith(ctx, (int) i), sizeof(float), n_vocab, out);
            std::fclose(out);
        }
        for (size_t i = 0; i + 1 < eval.size(); ++i) {
            const float * lg = llama_get_logits_ith(ctx, (int) i);
            double mx = lg[0];
            for (int v = 1; v < n_vocab; ++v) mx = lg[v] > mx ? lg[v] : mx;
            double se = 0.0;
            for (int v = 0; v < n_vocab; ++v) se += std::exp((double) lg[v] - mx);
            nll_sum += (mx + std::log(se)) - (double) lg[eval[i + 1]];
        }
        llama_free(ctx);
    }
    const double nll = nll_sum / (double) (eval.size() - 1);

    // Greedy continuation: prompt in one batch, then token by token.
    std::vector<llama_token> gen;
    {
        llama_context * ctx = make_context(model, n_ctx);
        std::vector<llama_token> seq = prompt;
        decode(ctx, seq.data(), (int) seq.size(), 0, false);
        for (int k = 0; k < n_gen; ++k) {
            const float * lg = llama_get_logits_ith(ctx, -1);
            llama_token t = argmax(lg, n_vocab);
            if (std::getenv("NLL_MARGINS")) {  // debugging aid: how close was the runner-up?
                int second = t == 0 ? 1 : 0;
                for (int v = 0; v < n_vocab; ++v) if (v != t && lg[v] > lg[second]) second = v;
                std::fprintf(stderr, "step %d: top %d (%.5f) second %d (%.5f)\n", k, t, lg[t], second, lg[second]);
            }
            gen.push_back(t);
            seq.push_back(t);
            if (k + 1 == n_gen) break;
            if (g_opt.recompute) {
                llama_memory_clear(llama_get_memory(ctx), true);
                decode(ctx, seq.data(), (int) seq.size(), 0, false);
            } else {
                decode(ctx, &t, 1, (int) seq.size() - 1, false);
            }
        }
        llama_free(ctx);
    }

    std::printf("{\"nll\": %.6f, \"nll_full\": %.9f, \"n_eval\": %zu, \"greedy\": [", nll, nll, eval.size());
    for (size_t i = 0; i < gen.size(); ++i) std::printf("%s%d", i ? ", " : "", gen[i]);
    std::printf("]}\n");
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
