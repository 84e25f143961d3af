// tessera-server end to end: starts it on a free port with models/pycode-6m, checks greedy
// completions against Hugging Face's continuation (models/pycode-6m/meta.json), drives it with
// the real npm `openai` client, checks every error case's status and error object, puts it
// under load with clients that disconnect mid-stream, and stops it with SIGTERM mid-request.
// Usage: node server_test.js --bin BUILD/examples/tessera-server --model models/pycode-6m
// Exits 77 (skipped) when the openai package is not installed (tests/server/setup.sh).
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

let OpenAI;
try {
  OpenAI = require('openai').default || require('openai');
} catch (e) {
  console.log('SKIP: npm openai is not installed; run tests/server/setup.sh');
  process.exit(77);
}

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const meta = JSON.parse(fs.readFileSync(path.join(args.model, 'meta.json'), 'utf8'));
const PROMPT = meta.generation.prompt;           // "def fibonacci(n):\n"
const EXPECTED = meta.generation.continuation;   // Hugging Face's greedy 64 tokens, decoded
const KEY = 'test-key-1234';

// pycode-6m has no chat template: serve a copy (links to its files) whose tokenizer_config.json
// has the ChatML template of tests/data/chat_templates, and compare with Python's jinja2.
const CHATML = fs.readFileSync(path.join(__dirname, '..', 'data', 'chat_templates', 'chatml.jinja'), 'utf8');
const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-server-test-'));
for (const f of fs.readdirSync(args.model))
  if (f !== 'tokenizer_config.json') fs.symlinkSync(path.resolve(args.model, f), path.join(modelDir, f));
const tokConfig = JSON.parse(fs.readFileSync(path.join(args.model, 'tokenizer_config.json'), 'utf8'));
tokConfig.chat_template = CHATML;
fs.writeFileSync(path.join(modelDir, 'tokenizer_config.json'), JSON.stringify(tokConfig));
const CHAT = [{ role: 'system', content: 'You write Python.' }, { role: 'user', content: 'def add(a, b):' }];

// transformers' rendering: jinja2's ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols.
function jinja2Render(template, messages, bosToken) {
  const py = `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
a = json.load(sys.stdin)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
sys.stdout.write(json.dumps(env.from_string(a["t"]).render(messages=a["m"], add_generation_prompt=True, bos_token=a["b"], eos_token=a["b"])))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify({ t: template, m: messages, b: bosToken }) });
  if (r.status !== 0) throw new Error('python3-jinja2 failed: ' + r.stderr);
  return JSON.parse(r.stdout.toString());
}

let failures = 0;
function check(cond, what, detail) {
  if (cond) console.log(`ok    ${what}`);
  else {
    failures++;
    console.log(`FAIL  ${what}${detail !== undefined ? ': ' + JSON.stringify(detail).slice(0, 400) : ''}`);
  }
}

function startServer(dir = modelDir, extra = ['--parallel', '4', '--queue', '64']) {
  const proc = spawn(args.bin, [dir, '--alias', 'pycode-6m', '--port', '0', '--api-key', KEY, '--max-body', '1048576', '-t', '1',
                                ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + proc.log)), 20000);
    proc.stderr.on('data', (d) => {
      proc.log += d.toString();
      const m = proc.log.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m && !proc.port) {
        proc.port = Number(m[1]);
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${proc.log}`)));
  });
}

async function main() {
  const server = await startServer();
  const base = `http://127.0.0.1:${server.port}`;
  const auth = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
  const post = async (route, body, headers = auth) => {
    const r = await fetch(base + route, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { /* checked by the caller */ }
    return { status: r.status, json, text };
  };
  // Reads a server-sent event stream; `abortAfter` chunks then disconnects (returns early).
  const stream = async (route, body, abortAfter = Infinity) => {
    const ctrl = new AbortController();
    const r = await fetch(base + route, { method: 'POST', headers: auth, body: JSON.stringify(body), signal: ctrl.signal });
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '', text = '', events = [], done = false;
    try {
      while (true) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (!ev.startsWith('data: ')) continue;
          const data = ev.slice(6);
          if (data === '[DONE]') { done = true; continue; }
          const j = JSON.parse(data);
          events.push(j);
          const c = j.choices && j.choices[0];
          if (c) text += c.text !== undefined ? c.text : (c.delta && c.delta.content) || '';
          if (events.length >= abortAfter) { ctrl.abort(); return { status: r.status, text, events, done, aborted: true }; }
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    }
    return { status: r.status, text, events, done, headers: r.headers };
  };
  const greedy = { model: 'pycode-6m', prompt: PROMPT, max_tokens: 64, temperature: 0, ignore_eos: true };

  try {
    // --- basics
    let r = await fetch(base + '/health');
    check(r.status === 200 && (await r.json()).status === 'ok', 'GET /health without a key is 200 {"status":"ok"}');
    r = await fetch(base + '/v1/models', { headers: auth });
    const models = await r.json();
    check(r.status === 200 && models.data[0].id === 'pycode-6m' && models.data[0].meta.n_ctx === 512, 'GET /v1/models', models);
    const tk = await post('/tokenize', { content: PROMPT });
    check(tk.status === 200 && Array.isArray(tk.json.tokens) && tk.json.tokens.length > 0, '/tokenize', tk.json);
    const dt = await post('/detokenize', { tokens: tk.json.tokens });
    check(dt.status === 200 && dt.json.content === PROMPT, '/detokenize gives the prompt back', dt.json);

    // --- greedy completion against Hugging Face, non-streamed and streamed
    const one = await post('/v1/completions', greedy);
    check(one.status === 200 && one.json.choices[0].text === EXPECTED, 'greedy /v1/completions equals Hugging Face', one.json);
    check(one.json.usage.completion_tokens === 64 && one.json.usage.prompt_tokens === tk.json.tokens.length &&
          one.json.usage.total_tokens === 64 + tk.json.tokens.length && one.json.choices[0].finish_reason === 'length',
          'usage and finish_reason', one.json.usage);
    const st = await stream('/v1/completions', { ...greedy, stream: true, stream_options: { include_usage: true } });
    check(st.status === 200 && st.text === EXPECTED && st.done, 'streamed greedy /v1/completions equals Hugging Face, ends with [DONE]', st.text);
    const last = st.events[st.events.length - 1];
    check(last.usage && last.usage.completion_tokens === 64 && st.events[st.events.length - 2].choices[0].finish_reason === 'length',
          'stream_options.include_usage: a usage chunk after the finish reason', last);
    const ids = await post('/v1/completions', { ...greedy, prompt: tk.json.tokens });
    check(ids.status === 200 && ids.json.choices[0].text === EXPECTED, 'a prompt of token ids gives the same', ids.json);

    const sixteen = await Promise.all(Array.from({ length: 16 }, () => post('/v1/completions', greedy)));
    check(sixteen.every((x) => x.status === 200 && x.json.choices[0].text === EXPECTED), '16 identical requests at once all equal Hugging Face',
          sixteen.map((x) => x.status));

    // --- stop strings (left out of the text) and logprobs
    const stopAt = EXPECTED.indexOf('filterer(n)');
    const stopped = await post('/v1/completions', { ...greedy, stop: ['filterer(n)'] });
    check(stopped.status === 200 && stopped.json.choices[0].text === EXPECTED.slice(0, stopAt) &&
          stopped.json.choices[0].finish_reason === 'stop', 'stop: the text ends before the stop string, finish_reason stop', stopped.json);
    const lp = await post('/v1/completions', { ...greedy, max_tokens: 4, logprobs: 3 });
    const l = lp.json && lp.json.choices[0].logprobs;
    check(lp.status === 200 && l.tokens.length === 4 && l.token_logprobs.every((x) => x <= 0) &&
          l.top_logprobs.every((t, i) => Object.keys(t).length === 3 && Math.max(...Object.values(t)) === l.token_logprobs[i]) &&
          l.tokens.join('') === lp.json.choices[0].text, 'logprobs: greedy tokens are their step\'s most likely', l);
    // Sampling: the same seed gives the same text, and penalties are accepted.
    const sampled = { prompt: PROMPT, max_tokens: 24, temperature: 0.8, top_p: 0.95, top_k: 40, min_p: 0.05, seed: 7,
                      presence_penalty: 0.5, frequency_penalty: 0.5, repetition_penalty: 1.1 };
    const s1 = await post('/v1/completions', sampled), s2 = await post('/v1/completions', sampled);
    check(s1.status === 200 && s1.json.choices[0].text === s2.json.choices[0].text, 'sampling with a seed is reproducible', [s1.json, s2.json]);

    // --- the real client
    const client = new OpenAI({ apiKey: KEY, baseURL: base + '/v1', maxRetries: 0 });
    const c = await client.completions.create({ model: 'pycode-6m', prompt: PROMPT, max_tokens: 64, temperature: 0, ignore_eos: true });
    check(c.choices[0].text === EXPECTED && c.usage.completion_tokens === 64, 'openai client: completions.create', c);
    let streamed = '';
    const cs = await client.completions.create({ model: 'pycode-6m', prompt: PROMPT, max_tokens: 64, temperature: 0, ignore_eos: true, stream: true });
    for await (const chunk of cs) streamed += chunk.choices[0] ? chunk.choices[0].text : '';
    check(streamed === EXPECTED, 'openai client: streamed completions', streamed);
    const models2 = await client.models.list();
    check(models2.data[0].id === 'pycode-6m', 'openai client: models.list');
    const clientError = async (what, fn, status, param) => {
      try {
        await fn();
        check(false, `openai client: ${what} throws`);
      } catch (e) {
        check(e.status === status && (param === undefined || (e.error && e.error.param === param)),
              `openai client: ${what} is ${status}${param ? ' naming ' + param : ''}`, { status: e.status, error: e.error });
      }
    };
    await clientError('max_tokens -1', () => client.completions.create({ model: 'x', prompt: 'a', max_tokens: -1 }), 400, 'max_tokens');
    await clientError('temperature as a string', () => client.completions.create({ model: 'x', prompt: 'a', temperature: 'hot' }), 400, 'temperature');
    await clientError('a wrong key', () => new OpenAI({ apiKey: 'wrong', baseURL: base + '/v1', maxRetries: 0 }).models.list(), 401);
    await clientError('an unknown route', () => client.get('/nothing-here'), 404);
    // --- chat: the template rendered as jinja2 does, counted as /tokenize counts it
    const rendered = jinja2Render(CHATML, CHAT, '<|endoftext|>');
    const at = await post('/apply-template', { messages: CHAT });
    check(at.status === 200 && at.json.prompt === rendered, '/apply-template equals jinja2\'s rendering', [at.json, rendered]);
    const renderedIds = (await post('/tokenize', { content: rendered })).json.tokens;
    const chatBody = { model: 'pycode-6m', messages: CHAT, max_tokens: 16, temperature: 0, ignore_eos: true };
    const chat = await post('/v1/chat/completions', chatBody);
    const asCompletion = await post('/v1/completions', { prompt: renderedIds, max_tokens: 16, temperature: 0, ignore_eos: true });
    check(chat.status === 200 && chat.json.usage.prompt_tokens === renderedIds.length && chat.json.object === 'chat.completion' &&
          chat.json.choices[0].message.role === 'assistant' && chat.json.choices[0].message.content === asCompletion.json.choices[0].text,
          '/v1/chat/completions: prompt_tokens = /tokenize of the rendering, the reply = the completion of it', [chat.json, asCompletion.json]);
    const chatStream = await stream('/v1/chat/completions', { ...chatBody, stream: true });
    check(chatStream.done && chatStream.text === chat.json.choices[0].message.content &&
          chatStream.events[0].choices[0].delta.role === 'assistant' && chatStream.events[0].object === 'chat.completion.chunk',
          'streamed chat: deltas add up to the reply', chatStream.events.slice(0, 2));
    const chatLp = await post('/v1/chat/completions', { ...chatBody, max_tokens: 3, logprobs: true, top_logprobs: 2 });
    const content = chatLp.json && chatLp.json.choices[0].logprobs && chatLp.json.choices[0].logprobs.content;
    check(chatLp.status === 200 && content.length === 3 && content.every((c) => c.top_logprobs.length === 2 && c.top_logprobs[0].logprob === c.logprob),
          'chat logprobs: greedy tokens are their step\'s most likely', content);
    const cc = await client.chat.completions.create(chatBody);
    check(cc.choices[0].message.content === chat.json.choices[0].message.content && cc.usage.prompt_tokens === renderedIds.length,
          'openai client: chat.completions.create', cc);
    let chatStreamed = '';
    for await (const chunk of await client.chat.completions.create({ ...chatBody, stream: true }))
      chatStreamed += (chunk.choices[0] && chunk.choices[0].delta.content) || '';
    check(chatStreamed === chat.json.choices[0].message.content, 'openai client: streamed chat', chatStreamed);

    // --- error cases: status and OpenAI's error object
    const errorCase = async (what, route, body, status, param, code, headers) => {
      const e = await post(route, body, headers);
      const err = e.json && e.json.error;
      const shaped = err && typeof err.message === 'string' && err.message.length > 0 && 'type' in err && 'param' in err && 'code' in err;
      check(e.status === status && shaped && (param === undefined || err.param === param) && (code === undefined || err.code === code),
            `${what}: ${status}${param ? ' param ' + param : ''}`, { status: e.status, body: e.json || e.text });
    };
    await errorCase('malformed JSON', '/v1/completions', '{"prompt": "a", ', 400, null, 'invalid_json');
    await errorCase('a body that is not an object', '/v1/completions', '[1, 2]', 400);
    await errorCase('deeply nested JSON', '/v1/completions', '['.repeat(100000) + ']'.repeat(100000), 400, null, 'invalid_json');
    await errorCase('missing prompt', '/v1/completions', { max_tokens: 3 }, 400, 'prompt');
    await errorCase('max_tokens as a string', '/v1/completions', { prompt: 'a', max_tokens: '5' }, 400, 'max_tokens');
    await errorCase('max_tokens 2.5', '/v1/completions', { prompt: 'a', max_tokens: 2.5 }, 400, 'max_tokens');
    await errorCase('negative max_tokens', '/v1/completions', { prompt: 'a', max_tokens: -5 }, 400, 'max_tokens');
    await errorCase('huge max_tokens', '/v1/completions', { prompt: 'a', max_tokens: 1e12 }, 400, 'max_tokens');
    await errorCase('max_tokens past the context', '/v1/completions', { prompt: 'a', max_tokens: 600 }, 400, 'max_tokens', 'context_length_exceeded');
    await errorCase('a prompt past the context', '/v1/completions', { prompt: 'x = 1\n'.repeat(400), max_tokens: 1 }, 400, 'prompt', 'context_length_exceeded');
    await errorCase('a token id past the vocabulary', '/v1/completions', { prompt: [1, 2, 99999], max_tokens: 1 }, 400, 'prompt');
    await errorCase('top_p 0', '/v1/completions', { prompt: 'a', top_p: 0 }, 400, 'top_p');
    await errorCase('top_k -1', '/v1/completions', { prompt: 'a', top_k: -1 }, 400, 'top_k');
    await errorCase('presence_penalty 3', '/v1/completions', { prompt: 'a', presence_penalty: 3 }, 400, 'presence_penalty');
    await errorCase('stop as a number', '/v1/completions', { prompt: 'a', stop: 5 }, 400, 'stop');
    await errorCase('stream as a string', '/v1/completions', { prompt: 'a', stream: 'yes' }, 400, 'stream');
    await errorCase('n = 2', '/v1/completions', { prompt: 'a', n: 2 }, 400, 'n');
    await errorCase('ignore_eos as a number', '/v1/completions', { prompt: 'a', ignore_eos: 1 }, 400, 'ignore_eos');
    await errorCase('chat messages not a list', '/v1/chat/completions', { messages: 'hi' }, 400, 'messages');
    await errorCase('chat message without a role', '/v1/chat/completions', { messages: [{ content: 'hi' }] }, 400, 'messages[0].role');
    await errorCase('embeddings on a decoder', '/v1/embeddings', { input: 'a' }, 400, 'model');
    await errorCase('/tokenize without content', '/tokenize', { text: 'a' }, 400, 'content');
    await errorCase('/detokenize with a bad id', '/detokenize', { tokens: [-1] }, 400, 'tokens');
    await errorCase('an unknown route', '/v1/nothing', {}, 404, null, 'not_found');
    await errorCase('a body over --max-body', '/v1/completions', JSON.stringify({ prompt: 'a'.repeat((1 << 20) + 10) }), 413, null, 'request_too_large');
    await errorCase('no API key', '/v1/completions', greedy, 401, null, 'invalid_api_key', { 'Content-Type': 'application/json' });
    await errorCase('a wrong API key', '/v1/completions', greedy, 401, null, 'invalid_api_key',
                    { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}x` });
    r = await fetch(base + '/v1/completions', { headers: auth });
    check(r.status === 404, 'GET on a POST route is 404');

    // --- load: 48 clients with mixed prompts and lengths; every 4th streams and leaves after 2 chunks
    const prompts = ['def fibonacci(n):\n', 'import os\n', 'class Stack:\n    def __init__(self):\n', '# Read a file\nwith open(',
                     'for i in range(10):\n', 'def main():\n    """'];
    const jobs = Array.from({ length: 48 }, (_, i) => ({ prompt: prompts[i % prompts.length], max_tokens: 8 + (i * 7) % 57,
                                                         temperature: 0, ignore_eos: true, leaves: i % 4 === 3 }));
    const alone = new Map();
    for (const j of jobs) {
      const k = `${j.prompt}|${j.max_tokens}`;
      if (!alone.has(k) && !j.leaves) alone.set(k, (await post('/v1/completions', { prompt: j.prompt, max_tokens: j.max_tokens, temperature: 0, ignore_eos: true })).json.choices[0].text);
    }
    const t0 = Date.now();
    const body = (j, extra) => ({ prompt: j.prompt, max_tokens: j.max_tokens, temperature: 0, ignore_eos: true, ...extra });
    const results = await Promise.all(jobs.map((j, i) => {
      if (j.leaves) return stream('/v1/completions', body(j, { max_tokens: 490, stream: true }), 2);
      return i % 2 ? stream('/v1/completions', body(j, { stream: true })) : post('/v1/completions', body(j));
    }));
    let same = 0, kept = 0;
    results.forEach((res, i) => {
      const j = jobs[i];
      if (j.leaves) return;
      kept++;
      const text = res.json ? res.json.choices[0].text : res.text;
      if (res.status === 200 && text === alone.get(`${j.prompt}|${j.max_tokens}`)) same++;
      else console.log('  differs:', i, res.status, JSON.stringify(text).slice(0, 100));
    });
    check(same === kept, `load: ${kept} of 48 clients that stayed got what they get alone (${Date.now() - t0} ms)`, { same, kept });
    r = await fetch(base + '/health');
    check(r.status === 200, 'load: the server is still up');
    // The clients that left freed their slots: a request now is served at once.
    const t1 = Date.now();
    const after = await post('/v1/completions', greedy);
    check(after.status === 200 && after.json.choices[0].text === EXPECTED && Date.now() - t1 < 5000,
          'load: slots of the clients that left were freed', Date.now() - t1);
    // The access log shows each client that left mid-stream as 499, stopped before its 490 tokens.
    const left = server.log.split('\n').filter((x) => /"POST \/v1\/completions" 499 0 bytes, \d+ tokens/.test(x));
    check(left.length === 12 && left.every((x) => Number(x.match(/(\d+) tokens/)[1]) < 490),
          'load: the 12 clients that left stopped their generation (499 in the log)', left.map((x) => x.match(/(\d+) tokens/)[1]));

    // A request waiting in the queue whose client leaves never takes a slot: hold the 4 slots with
    // long streams, queue a non-streamed request, drop it, then drop the streams.
    const holders = Array.from({ length: 4 }, () => new AbortController());
    const held = holders.map((c) => fetch(base + '/v1/completions', { method: 'POST', headers: auth, signal: c.signal,
      body: JSON.stringify({ prompt: PROMPT, max_tokens: 500, temperature: 0, ignore_eos: true, stream: true }) }).catch(() => null));
    await Promise.all(held);  // headers arrived: each holds a slot
    const queued = new AbortController();
    const q = fetch(base + '/v1/completions', { method: 'POST', headers: auth, signal: queued.signal,
      body: JSON.stringify({ prompt: 'import os\n', max_tokens: 5, temperature: 0 }) }).catch((e) => e.name);
    await new Promise((res) => setTimeout(res, 150));
    queued.abort();
    check((await q) === 'AbortError', 'a queued client can leave');
    await new Promise((res) => setTimeout(res, 200));  // the server polls a waiting client every 50 ms
    holders.forEach((c) => c.abort());
    await new Promise((res) => setTimeout(res, 300));
    check(/"POST \/v1\/completions" 499 \d+ bytes\n/.test(server.log), 'the queued request that left is logged 499 without generating',
          server.log.split('\n').slice(-8));
    const logLines = server.log.split('\n').filter((x) => /"(GET|POST) \//.test(x)).length;
    check(logLines >= 60, `one access-log line per request on stderr (${logLines})`);

    // --- SIGTERM mid-stream: the stream finishes with [DONE], the server exits 0
    const inflight = stream('/v1/completions', { ...greedy, max_tokens: 300, stream: true });
    await new Promise((res) => setTimeout(res, 100));
    const exited = new Promise((res) => server.on('exit', (code, sig) => res({ code, sig })));
    server.kill('SIGTERM');
    const fin = await inflight;
    const ex = await exited;
    check(fin.done && fin.events.length > 1, 'SIGTERM: the request in flight finished with [DONE]', fin.events.length);
    check(ex.code === 0, 'SIGTERM: the server exited 0', ex);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    fs.rmSync(modelDir, { recursive: true, force: true });
  }
  // --- one slot and no queue: a second request is refused with 503 at once; a model without a
  // chat template says so.
  const small = await startServer(args.model, ['--parallel', '1', '--queue', '0']);
  try {
    const sbase = `http://127.0.0.1:${small.port}`;
    const auth = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
    const ctrl = new AbortController();
    const busy = await fetch(sbase + '/v1/completions', { method: 'POST', headers: auth, signal: ctrl.signal,
      body: JSON.stringify({ prompt: PROMPT, max_tokens: 500, ignore_eos: true, stream: true }) });
    const refused = await fetch(sbase + '/v1/completions', { method: 'POST', headers: auth, body: JSON.stringify({ prompt: 'a', max_tokens: 1 }) });
    const rj = await refused.json();
    check(busy.status === 200 && refused.status === 503 && refused.headers.get('retry-after') === '1' && rj.error.code === 'queue_full',
          'a full queue: 503 with Retry-After', rj);
    ctrl.abort();
    const noTpl = await fetch(sbase + '/v1/chat/completions', { method: 'POST', headers: auth, body: JSON.stringify({ messages: CHAT }) });
    const nj = await noTpl.json();
    check(noTpl.status === 400 && nj.error.code === 'no_chat_template' && nj.error.param === 'messages', 'chat without a chat template: 400', nj);
  } finally {
    small.kill('SIGKILL');
  }

  if (failures) {
    console.log(`${failures} check(s) failed; server log tail:\n${server.log.split('\n').slice(-15).join('\n')}`);
    process.exit(1);
  }
  console.log('all server checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
