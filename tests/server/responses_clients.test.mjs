// The Responses API (/v1/responses) as real clients call it, against `unigemma serve` on a
// random-weight model: the openai SDK's client.responses.create (plain, streamed, chained by
// previous_response_id) and the AI SDK's default provider openai(model), which calls only this
// route, with generateText, streamText and a tool call.
// Run: node responses_clients.test.mjs UNIGEMMA_BINARY BUILD_DIR
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {generateText, streamText, tool, stepCountIs} from 'ai';
import {createOpenAI} from '@ai-sdk/openai';
import {z} from 'zod';
import {startServer} from './harness.mjs';

let srv;
before(async () => { srv = await startServer(process.argv[2], process.argv[3], 'responses'); });
after(async () => { await srv.stop(); });

const client = () => new OpenAI({baseURL: srv.base + '/v1', apiKey: 'unused', maxRetries: 0});

test('openai: responses.create answers with a message and usage', async () => {
  const r = await client().responses.create({
    model: 'tiny', input: 'Say hello', instructions: 'Be brief.', max_output_tokens: 8,
    temperature: 0,
  });
  assert.equal(r.object, 'response');
  assert.ok(['completed', 'incomplete'].includes(r.status), r.status);
  assert.equal(typeof r.output_text, 'string');
  const msg = r.output.find((o) => o.type === 'message');
  assert.ok(msg, JSON.stringify(r.output));
  assert.equal(msg.content[0].type, 'output_text');
  assert.equal(r.output_text, msg.content[0].text);
  assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);

  // Chained by previous_response_id; retrieved and deleted by id.
  const r2 = await client().responses.create({
    model: 'tiny', input: 'And again', previous_response_id: r.id, max_output_tokens: 4,
    temperature: 0,
  });
  assert.equal(r2.previous_response_id, r.id);
  assert.ok(r2.usage.input_tokens > r.usage.input_tokens);
  const got = await client().responses.retrieve(r2.id);
  assert.equal(got.id, r2.id);
  await client().responses.del(r2.id);
  await assert.rejects(client().responses.retrieve(r2.id), (e) => e.status === 404);
});

test('openai: streamed responses.create yields the typed events', async () => {
  const stream = await client().responses.create({
    model: 'tiny', input: 'Count to three', max_output_tokens: 10, temperature: 0, stream: true,
  });
  const types = [];
  let text = '';
  let final;
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === 'response.output_text.delta') text += ev.delta;
    if (ev.type === 'response.completed' || ev.type === 'response.incomplete') final = ev.response;
  }
  assert.equal(types[0], 'response.created');
  assert.equal(types[1], 'response.in_progress');
  for (const t of ['response.output_item.added', 'response.content_part.added',
                   'response.output_text.done', 'response.content_part.done',
                   'response.output_item.done']) {
    assert.ok(types.includes(t), t + ' missing from ' + types.join(','));
  }
  assert.ok(final, 'no final event');
  assert.equal(final.output.find((o) => o.type === 'message').content[0].text, text);
});

const provider = () => createOpenAI({baseURL: srv.base + '/v1', apiKey: 'unused'});

test('AI SDK: generateText and streamText with openai(model)', async () => {
  const g = await generateText({
    model: provider()('tiny'), prompt: 'Hello', maxOutputTokens: 8, temperature: 0,
  });
  assert.equal(typeof g.text, 'string');
  assert.ok(g.usage.inputTokens > 0, JSON.stringify(g.usage));
  assert.ok(['stop', 'length'].includes(g.finishReason), g.finishReason);

  const s = streamText({
    model: provider()('tiny'), prompt: 'Hello', maxOutputTokens: 8, temperature: 0,
  });
  let streamed = '';
  for await (const part of s.textStream) streamed += part;
  assert.equal(streamed, g.text);  // greedy: the same answer either way
  assert.ok((await s.usage).outputTokens > 0);
});

test('AI SDK: a forced tool call is executed, and its result goes back in a second step', async () => {
  const seen = [];
  const r = await generateText({
    model: provider()('tiny'),
    prompt: 'What is the weather in Paris?',
    tools: {
      get_weather: tool({
        description: 'Current weather',
        inputSchema: z.object({city: z.string().max(12)}),
        execute: async ({city}) => { seen.push(city); return {city, sky: 'sunny'}; },
      }),
    },
    toolChoice: 'required',
    stopWhen: stepCountIs(2),
    maxOutputTokens: 64,
    temperature: 0,
    seed: 5,
  });
  assert.ok(r.steps.length >= 2, 'steps: ' + r.steps.length);
  const calls = r.steps[0].toolCalls;
  assert.ok(calls.length >= 1, JSON.stringify(r.steps[0].content));
  assert.equal(calls[0].toolName, 'get_weather');
  assert.equal(typeof calls[0].input.city, 'string');
  assert.equal(seen.length >= 1, true);
  assert.equal(r.steps[0].toolResults[0].output.sky, 'sunny');
  // The second request sent the call back (by item_reference, since the call was stored).
  assert.ok(r.steps[1].usage.inputTokens > r.steps[0].usage.inputTokens);
});
