// The official openai npm client against `unigemma serve`: plain and streamed chat, tools,
// logprobs, completions, errors. Run: node openai_client.test.mjs UNIGEMMA_BINARY BUILD_DIR
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {startServer} from './harness.mjs';

let srv, client;
before(async () => {
  srv = await startServer(process.argv[2], process.argv[3], 'openai');
  client = new OpenAI({baseURL: srv.base + '/v1', apiKey: 'unused', maxRetries: 0});
});
after(async () => { await srv.stop(); });

const user = (text) => [{role: 'user', content: text}];

test('plain chat completion', async () => {
  const r = await client.chat.completions.create(
      {model: 'tiny', messages: user('Hello'), max_tokens: 8, temperature: 0, seed: 1});
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 8);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('streamed chat equals the plain answer', async () => {
  const req = {model: 'tiny', messages: user('Stream please'), max_tokens: 12, temperature: 0.9, seed: 7};
  const whole = await client.chat.completions.create(req);
  const stream = await client.chat.completions.create(
      {...req, stream: true, stream_options: {include_usage: true}});
  let text = '', chunks = 0, usage = null, finish = null;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.ok(chunks >= 3, 'several chunks');
  assert.equal(text, whole.choices[0].message.content ?? '');
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
});

test('tools are declared in the prompt and tool turns are accepted', async () => {
  const tools = [{type: 'function', function: {name: 'get_weather', description: 'Weather of a city',
                  parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}}}];
  const plain = await client.chat.completions.create({model: 'tiny', messages: user('Weather in Paris?'), max_tokens: 2});
  const withTools = await client.chat.completions.create(
      {model: 'tiny', messages: user('Weather in Paris?'), max_tokens: 2, tools, tool_choice: 'auto'});
  assert.ok(withTools.usage.prompt_tokens > plain.usage.prompt_tokens + 10, 'the tool declaration is in the prompt');
  const none = await client.chat.completions.create(
      {model: 'tiny', messages: user('Weather in Paris?'), max_tokens: 2, tools, tool_choice: 'none'});
  assert.equal(none.usage.prompt_tokens, plain.usage.prompt_tokens);
  const followUp = await client.chat.completions.create({
    model: 'tiny', max_tokens: 4, tools,
    messages: [
      ...user('Weather in Paris?'),
      {role: 'assistant', content: null,
       tool_calls: [{id: 'call_0', type: 'function', function: {name: 'get_weather', arguments: '{"city":"Paris"}'}}]},
      {role: 'tool', tool_call_id: 'call_0', content: '{"temp": 21}'},
    ]});
  assert.ok(followUp.usage.prompt_tokens > withTools.usage.prompt_tokens);
  const msg = followUp.choices[0].message;
  if (msg.tool_calls) {
    for (const c of msg.tool_calls) {
      assert.equal(c.type, 'function');
      assert.equal(typeof c.function.arguments, 'string');
    }
  }
});

test('logprobs', async () => {
  const r = await client.chat.completions.create(
      {model: 'tiny', messages: user('Hi'), max_tokens: 6, logprobs: true, top_logprobs: 4, seed: 3});
  const lp = r.choices[0].logprobs.content;
  assert.ok(lp.length >= 1 && lp.length <= r.usage.completion_tokens);
  for (const e of lp) {
    assert.ok(e.logprob <= 0);
    assert.equal(e.top_logprobs.length, 4);
    assert.deepEqual(Buffer.from(e.bytes).toString('utf8').length > 0 || e.token === '', true);
  }
});

test('completions and models', async () => {
  const models = await client.models.list();
  assert.equal(models.data[0].id, 'model');
  const r = await client.completions.create({model: 'tiny', prompt: 'Once upon a time', max_tokens: 5, temperature: 0});
  assert.equal(r.object, 'text_completion');
  assert.equal(typeof r.choices[0].text, 'string');
});

test('errors come back as OpenAI errors', async () => {
  await assert.rejects(
      client.chat.completions.create({model: 'tiny', messages: [{role: 'wizard', content: 'x'}]}),
      (e) => e.status === 400 && /role/.test(e.message));
  await assert.rejects(
      client.chat.completions.create({model: 'tiny', messages: user('x'), temperature: 'hot'}),
      (e) => e.status === 400 && e.param === 'temperature');
});
