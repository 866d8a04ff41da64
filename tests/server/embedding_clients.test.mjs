// Embeddings and model lookups as the official clients call them, against `unigemma serve` on a
// random-weight model: openai's embeddings.create (its default base64 encoding) and
// models.retrieve, the ollama client's embed, ps and its "model not found" error.
// Run: node embedding_clients.test.mjs UNIGEMMA_BINARY BUILD_DIR
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {Ollama} from 'ollama';
import {startServer} from './harness.mjs';

let srv;
before(async () => {
  srv = await startServer(process.argv[2], process.argv[3], 'embeddings', ['--alias', 'gemma4:12b']);
});
after(async () => { await srv.stop(); });

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('openai: embeddings.create, batched and single, unit length', async () => {
  const client = new OpenAI({baseURL: srv.base + '/v1', apiKey: 'unused', maxRetries: 0});
  const batch = await client.embeddings.create({model: 'gemma4:12b', input: ['one', 'two', 'three']});
  assert.equal(batch.data.length, 3);
  const single = await client.embeddings.create({model: 'gemma4:12b', input: 'two'});
  const a = batch.data[1].embedding, b = single.data[0].embedding;
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `at ${i}`);
  assert.ok(Math.abs(norm(b) - 1) < 1e-4);
  assert.ok(batch.usage.prompt_tokens > 0);
  const small = await client.embeddings.create({model: 'gemma4:12b', input: 'two', dimensions: 16});
  assert.equal(small.data[0].embedding.length, 16);

  const m = await client.models.retrieve('gemma4:12b');
  assert.equal(m.id, 'gemma4:12b');
  await assert.rejects(client.models.retrieve('gpt-4o'), (e) => e.status === 404);
});

test('ollama: embed, ps, and an unknown model', async () => {
  const ollama = new Ollama({host: srv.base});
  const r = await ollama.embed({model: 'gemma4:12b', input: ['one', 'two']});
  assert.equal(r.embeddings.length, 2);
  assert.ok(Math.abs(norm(r.embeddings[0]) - 1) < 1e-4);
  const ps = await ollama.ps();
  assert.equal(ps.models[0].name, 'gemma4:12b');
  await assert.rejects(ollama.show({model: 'llama3'}),
                       (e) => e.status_code === 404 && /model 'llama3' not found/.test(e.error));
  const unload = await ollama.generate({model: 'gemma4:12b', prompt: '', keep_alive: 0});
  assert.equal(unload.done_reason, 'unload');
});
