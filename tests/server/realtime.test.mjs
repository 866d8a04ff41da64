// /v1/realtime driven by the `ws` WebSocket client against `unigemma serve` on a tiny random
// model: text turns, streamed audio with its answer equal to the whole clip's through
// /v1/chat/completions, cancel, clear, VAD commit, malformed events, a client that goes away
// mid-utterance. Run: node realtime.test.mjs UNIGEMMA_BINARY BUILD_DIR
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {startServer} from './harness.mjs';

let srv;
before(async () => { srv = await startServer(process.argv[2], process.argv[3], 'realtime'); });
after(async () => { await srv.stop(); });

// A connection that queues server events so a test can wait for the next one of a type.
async function connect() {
  const ws = new WebSocket(srv.base.replace('http', 'ws') + '/v1/realtime');
  const events = [];
  let wake = null;
  ws.on('message', (data) => {
    events.push(JSON.parse(data.toString()));
    if (wake) wake();
  });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const c = {
    ws, events,
    send: (e) => ws.send(typeof e === 'string' ? e : JSON.stringify(e)),
    // The next event of `type` (events before it are kept in c.seen).
    next: async (type, timeoutMs = 60000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e) => e.type === type);
        if (i >= 0) {
          c.seen.push(...events.slice(0, i));
          return events.splice(0, i + 1).pop();
        }
        if (Date.now() > deadline) throw new Error('no ' + type + '; got ' + JSON.stringify(events));
        await new Promise((r) => { wake = r; setTimeout(r, 100); });
      }
    },
    seen: [],
    close: () => new Promise((r) => { ws.on('close', r); ws.close(); }),
  };
  assert.equal((await c.next('session.created')).session.object, 'realtime.session');
  return c;
}

// Speech-like test audio: a tone with a varying pitch and loudness, as 16-bit PCM.
function tone(seconds, rate = 16000, amp = 0.3) {
  const n = Math.round(seconds * rate);
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = 0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t);
    pcm[i] = Math.round(32767 * amp * env * Math.sin(2 * Math.PI * (220 + 80 * Math.sin(t * 5)) * t));
  }
  return pcm;
}
const silence = (seconds, rate = 16000) => new Int16Array(Math.round(seconds * rate));
const b64 = (pcm) => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');
function wav(pcm, rate = 16000) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.byteLength, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(pcm.byteLength, 40);
  return Buffer.concat([h, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]);
}

const manual = (extra = {}) => ({type: 'session.update', session: {
  turn_detection: null, input_audio_format: 'pcm16', input_audio_sample_rate: 16000,
  temperature: 0, max_response_output_tokens: 12, ...extra}});

async function chat(messages, maxTokens = 12) {
  const r = await fetch(srv.base + '/v1/chat/completions', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({model: 'tiny', messages, max_tokens: maxTokens, temperature: 0})});
  assert.equal(r.status, 200);
  return (await r.json()).choices[0].message.content;
}

// response.create → the streamed text (deltas joined) and response.done.
async function respond(c, response) {
  c.send(response ? {type: 'response.create', response} : {type: 'response.create'});
  const created = await c.next('response.created');
  const done = await c.next('response.done');
  const deltas = c.seen.filter((e) => e.type === 'response.output_text.delta' &&
                                      e.response_id === created.response.id);
  c.seen.length = 0;
  return {text: deltas.map((e) => e.delta).join(''), done: done.response};
}

async function metric(name) {
  const body = await (await fetch(srv.base + '/metrics')).text();
  const m = body.match(new RegExp('^' + name + ' (\\S+)$', 'm'));
  return m ? Number(m[1]) : NaN;
}

test('session.update is answered with the whole session', async () => {
  const c = await connect();
  c.send({type: 'session.update', event_id: 'u1', session: {
    instructions: 'Be brief.', turn_detection: {type: 'server_vad', threshold: 0.3,
    silence_duration_ms: 300, prefix_padding_ms: 100}}});
  const u = await c.next('session.updated');
  assert.equal(u.session.instructions, 'Be brief.');
  assert.equal(u.session.turn_detection.silence_duration_ms, 300);
  assert.equal(u.session.audio.input.format.rate, 24000);
  c.send({type: 'session.update', session: {audio: {input: {format: {type: 'audio/pcm', rate: 16000},
                                                           turn_detection: null}}}});
  const v = await c.next('session.updated');
  assert.equal(v.session.turn_detection, null);
  assert.equal(v.session.audio.input.format.rate, 16000);
  await c.close();
});

test('a text turn streams the same answer as /v1/chat/completions', async () => {
  const c = await connect();
  c.send(manual());
  await c.next('session.updated');
  c.send({type: 'conversation.item.create', item: {type: 'message', role: 'user',
                                                   content: [{type: 'input_text', text: 'Hello there'}]}});
  const item = await c.next('conversation.item.created');
  assert.equal(item.item.role, 'user');
  const r = await respond(c);
  assert.ok(['completed', 'incomplete'].includes(r.done.status));
  assert.equal(r.done.output[0].content[0].text, r.text);
  assert.equal(r.text, await chat([{role: 'user', content: 'Hello there'}]));
  // The second turn renders the first again: the engine's prefix cache keeps it.
  c.send({type: 'conversation.item.create', item: {type: 'message', role: 'user',
                                                   content: [{type: 'input_text', text: 'And now?'}]}});
  await c.next('conversation.item.created');
  const r2 = await respond(c);
  assert.ok(r2.done.usage.input_token_details.cached_tokens > 0, JSON.stringify(r2.done.usage));
  assert.equal(r2.text, await chat([{role: 'user', content: 'Hello there'},
                                    {role: 'assistant', content: r.text},
                                    {role: 'user', content: 'And now?'}]));
  await c.close();
});

test('streamed audio gives the whole clip\'s answer at temperature 0', async () => {
  const pcm = tone(2.3);
  const whole = await chat([{role: 'user', content: [
      {type: 'input_audio', input_audio: {data: wav(pcm).toString('base64'), format: 'wav'}}]}]);
  const c = await connect();
  c.send(manual());
  await c.next('session.updated');
  for (let i = 0; i < pcm.length; i += 3200) {  // 0.2 s per event, as a microphone sends
    c.send({type: 'input_audio_buffer.append', audio: b64(pcm.subarray(i, i + 3200))});
    await new Promise((r) => setTimeout(r, 20));
  }
  // While the buffer grows, an engine request already holds its rows.
  assert.ok(await metric('unigemma_active_slots') >= 1);
  c.send({type: 'input_audio_buffer.commit'});
  const committed = await c.next('input_audio_buffer.committed');
  const item = await c.next('conversation.item.created');
  assert.equal(item.item.id, committed.item_id);
  assert.equal(item.item.content[0].type, 'input_audio');
  const r = await respond(c);
  assert.equal(r.text, whole);
  assert.ok(r.text.length > 0);
  await c.close();
});

test('response.cancel ends the answer with status cancelled', async () => {
  const c = await connect();
  c.send(manual({max_response_output_tokens: 400}));
  await c.next('session.updated');
  c.send({type: 'conversation.item.create', item: {type: 'message', role: 'user',
                                                   content: [{type: 'input_text', text: 'Talk a lot'}]}});
  await c.next('conversation.item.created');
  c.send({type: 'response.create'});
  await c.next('response.created');
  c.send({type: 'response.create'});  // a second one while the first runs is refused
  assert.equal((await c.next('error')).error.code, 'conversation_already_has_active_response');
  c.send({type: 'response.cancel'});
  const done = await c.next('response.done');
  assert.equal(done.response.status, 'cancelled');
  assert.ok(done.response.usage.output_tokens < 400);
  c.send({type: 'response.cancel'});
  assert.equal((await c.next('error')).error.code, 'response_cancel_not_active');
  await c.close();
});

test('input_audio_buffer.clear drops the buffer and its engine request', async () => {
  const c = await connect();
  c.send(manual());
  await c.next('session.updated');
  c.send({type: 'input_audio_buffer.append', audio: b64(tone(1.0))});
  c.send({type: 'input_audio_buffer.clear'});
  await c.next('input_audio_buffer.cleared');
  c.send({type: 'input_audio_buffer.commit', event_id: 'c1'});
  const e = await c.next('error');
  assert.equal(e.error.code, 'input_audio_buffer_commit_empty');
  assert.equal(e.error.event_id, 'c1');
  await c.close();
});

test('server VAD commits by itself and answers', async () => {
  const c = await connect();
  c.send({type: 'session.update', session: {input_audio_sample_rate: 16000, temperature: 0,
    max_response_output_tokens: 6, turn_detection: {type: 'server_vad', threshold: 0.5,
    silence_duration_ms: 300, prefix_padding_ms: 200}}});
  await c.next('session.updated');
  const audio = [silence(0.6), tone(1.2), silence(0.6)];
  for (const part of audio)
    for (let i = 0; i < part.length; i += 1600)
      c.send({type: 'input_audio_buffer.append', audio: b64(part.subarray(i, i + 1600))});
  const started = await c.next('input_audio_buffer.speech_started');
  assert.ok(Math.abs(started.audio_start_ms - 400) <= 40, JSON.stringify(started));
  const stopped = await c.next('input_audio_buffer.speech_stopped');
  assert.ok(stopped.audio_end_ms >= 1800 + 300 - 40 && stopped.audio_end_ms <= 2400,
            JSON.stringify(stopped));
  const committed = await c.next('input_audio_buffer.committed');
  assert.equal(committed.item_id, started.item_id);
  await c.next('response.created');
  const done = await c.next('response.done');
  assert.ok(['completed', 'incomplete'].includes(done.response.status));
  await c.close();
});

test('malformed events get error events and the session goes on', async () => {
  const c = await connect();
  c.send('{not json');
  assert.equal((await c.next('error')).error.code, 'invalid_json');
  c.send({type: 'no.such.event', event_id: 'x9'});
  const u = await c.next('error');
  assert.equal(u.error.code, 'unknown_event_type');
  assert.equal(u.error.event_id, 'x9');
  c.send({type: 'input_audio_buffer.append', audio: '@@@not base64'});
  assert.equal((await c.next('error')).error.code, 'invalid_base64');
  c.send({type: 'input_audio_buffer.append', audio: Buffer.from([1, 2, 3]).toString('base64')});
  assert.equal((await c.next('error')).error.code, 'invalid_audio_length');
  c.send({type: 'session.update', session: {turn_detection: {type: 'semantic_vad'}}});
  assert.equal((await c.next('error')).error.param, 'session.turn_detection.type');
  c.send({type: 'conversation.item.create', item: {type: 'message', role: 'robot', content: []}});
  assert.equal((await c.next('error')).error.param, 'item.role');
  c.send({type: 'session.update', session: {turn_detection: null}});
  await c.next('session.updated');
  c.send({type: 'input_audio_buffer.append', audio: b64(silence(0.5))});
  c.send({type: 'input_audio_buffer.commit'});
  assert.equal((await c.next('error')).error.code, 'input_audio_buffer_silent');
  c.send(manual());
  await c.next('session.updated');  // still serving
  assert.equal((await fetch(srv.base + '/health')).status, 200);
  await c.close();
});

test('a client that disappears mid-utterance frees its engine request', async () => {
  const c = await connect();
  c.send(manual());
  await c.next('session.updated');
  c.send({type: 'input_audio_buffer.append', audio: b64(tone(1.5))});
  for (let i = 0; await metric('unigemma_active_slots') < 1; i++) {
    assert.ok(i < 100, 'the live request never started');
    await new Promise((r) => setTimeout(r, 50));
  }
  c.ws.terminate();  // no close frame: the TCP connection just ends
  for (let i = 0; await metric('unigemma_active_slots') > 0; i++) {
    assert.ok(i < 100, 'the slot was not freed');
    await new Promise((r) => setTimeout(r, 50));
  }
});
