// Structured output as real client libraries ask for it, against `unigemma serve` on a
// random-weight model (only the constraint can make the answer parse): openai's
// response_format json_schema with its parse helper, the AI SDK's Output.object, LangChain's
// withStructuredOutput, the Ollama client's format, and a forced tool call.
// Run: node structured_clients.test.mjs UNIGEMMA_BINARY BUILD_DIR
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {zodResponseFormat} from 'openai/helpers/zod';
import {z} from 'zod';
import {generateText, Output} from 'ai';
import {createOpenAI} from '@ai-sdk/openai';
import {ChatOpenAI} from '@langchain/openai';
import {Ollama} from 'ollama';
import {startServer} from './harness.mjs';

let srv;
before(async () => { srv = await startServer(process.argv[2], process.argv[3], 'structured'); });
after(async () => { await srv.stop(); });

// Bounded, so a random model finishes well within the token limit.
const Person = z.object({
  name: z.string().max(12),
  age: z.number().int().min(0).max(120),
  pet: z.enum(['cat', 'dog', 'none']),
});

test('openai: response_format json_schema with the parse helper', async () => {
  const client = new OpenAI({baseURL: srv.base + '/v1', apiKey: 'unused', maxRetries: 0});
  const r = await client.beta.chat.completions.parse({
    model: 'tiny',
    messages: [{role: 'user', content: 'Describe a person'}],
    response_format: zodResponseFormat(Person, 'person'),
    max_tokens: 300,
    seed: 3,
  });
  const parsed = r.choices[0].message.parsed;
  assert.ok(parsed, 'parsed: ' + r.choices[0].message.content);
  assert.deepEqual(Object.keys(parsed).sort(), ['age', 'name', 'pet']);
  Person.parse(parsed);
});

test('openai: forced tool call', async () => {
  const client = new OpenAI({baseURL: srv.base + '/v1', apiKey: 'unused', maxRetries: 0});
  const r = await client.chat.completions.create({
    model: 'tiny',
    messages: [{role: 'user', content: 'Weather in Paris?'}],
    tools: [{type: 'function', function: {name: 'get_weather', parameters: {
      type: 'object', properties: {city: {type: 'string', maxLength: 12}},
      required: ['city'], additionalProperties: false}}}],
    tool_choice: {type: 'function', function: {name: 'get_weather'}},
    max_tokens: 200,
    seed: 4,
  });
  const calls = r.choices[0].message.tool_calls;
  assert.ok(calls && calls.length >= 1, JSON.stringify(r.choices[0]));
  assert.equal(calls[0].function.name, 'get_weather');
  assert.equal(typeof JSON.parse(calls[0].function.arguments).city, 'string');
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
});

test('AI SDK: generateText with Output.object', async () => {
  const provider = createOpenAI({baseURL: srv.base + '/v1', apiKey: 'unused'});
  const r = await generateText({
    model: provider.chat('tiny'),
    prompt: 'Describe a person',
    experimental_output: Output.object({schema: Person}),
    maxOutputTokens: 300,
    seed: 5,
    maxRetries: 0,
  });
  Person.parse(r.experimental_output);
});

test('LangChain: withStructuredOutput', async () => {
  const llm = new ChatOpenAI({model: 'tiny', apiKey: 'unused', maxTokens: 300, maxRetries: 0,
                              configuration: {baseURL: srv.base + '/v1'}});
  for (const method of ['jsonSchema', 'functionCalling']) {
    const out = await llm.withStructuredOutput(Person, {method}).invoke('Describe a person');
    Person.parse(out);
  }
});

test('Ollama client: format with a schema', async () => {
  const ollama = new Ollama({host: srv.base});
  const schema = {type: 'object', properties: {
    ok: {type: 'boolean'}, n: {type: 'integer', minimum: 1, maximum: 9}},
    required: ['ok', 'n']};
  const r = await ollama.chat({model: 'model', messages: [{role: 'user', content: 'Answer'}],
                               format: schema, options: {num_predict: 200, seed: 6}});
  const v = JSON.parse(r.message.content);
  assert.equal(typeof v.ok, 'boolean');
  assert.ok(Number.isInteger(v.n) && v.n >= 1 && v.n <= 9);
});
