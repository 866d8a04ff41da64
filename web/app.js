// The chat page: talks to /v1/chat/completions with streaming (SSE over fetch), keeps the
// conversation in memory, and sends images and audio as data URLs / base64.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  history: [],        // OpenAI messages of the conversation so far
  attachments: [],    // {kind: 'image'|'audio', dataUrl, name, mime}
  controller: null,   // AbortController of the running request
  recorder: null,
  live: null,         // the /v1/realtime turn in progress
  spoken: new WeakMap(),  // history message of a spoken turn -> its PCM16 (base64)
};

const settingsKeys = ['system', 'temperature', 'max-tokens', 'thinking', 'api-key'];
function loadSettings() {
  for (const k of settingsKeys) {
    const v = localStorage.getItem('ug-' + k);
    if (v === null) continue;
    if ($(k).type === 'checkbox') $(k).checked = v === 'true'; else $(k).value = v;
  }
}
function saveSettings() {
  for (const k of settingsKeys)
    localStorage.setItem('ug-' + k, $(k).type === 'checkbox' ? $(k).checked : $(k).value);
}

function headers() {
  const h = {'Content-Type': 'application/json'};
  const key = $('api-key').value.trim();
  if (key) h.Authorization = 'Bearer ' + key;
  return h;
}

function setStatus(text) { $('status').textContent = text || ''; }

function scrollDown() { const m = $('messages'); m.scrollTop = m.scrollHeight; }

function addMessage(role, text, attachments) {
  const div = document.createElement('div');
  div.className = 'msg ' + role;
  for (const a of attachments || []) {
    if (a.kind === 'image') {
      const img = document.createElement('img');
      img.src = a.dataUrl;
      img.alt = a.name;
      div.appendChild(img);
    } else {
      const au = document.createElement('audio');
      au.controls = true;
      au.src = a.dataUrl;
      div.appendChild(au);
    }
  }
  const body = document.createElement('div');
  body.className = 'content';
  body.textContent = text || '';
  div.appendChild(body);
  $('messages').appendChild(div);
  scrollDown();
  return div;
}

function renderAttachments() {
  const box = $('attachments');
  box.textContent = '';
  state.attachments.forEach((a, i) => {
    const d = document.createElement('div');
    d.className = 'attachment';
    if (a.kind === 'image') {
      const img = document.createElement('img');
      img.src = a.dataUrl;
      img.alt = a.name;
      d.appendChild(img);
    } else {
      d.appendChild(document.createTextNode('audio: ' + a.name));
    }
    const x = document.createElement('button');
    x.type = 'button';
    x.textContent = '\u00d7';
    x.title = 'Remove';
    x.onclick = () => { state.attachments.splice(i, 1); renderAttachments(); };
    d.appendChild(x);
    box.appendChild(d);
  });
}

function readAsDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

async function addFile(file) {
  const kind = file.type.startsWith('audio/') ? 'audio' : file.type.startsWith('image/') ? 'image' : null;
  if (!kind) { setStatus('unsupported file type: ' + (file.type || file.name)); return; }
  state.attachments.push({kind, name: file.name || kind, mime: file.type, dataUrl: await readAsDataUrl(file)});
  renderAttachments();
}

// Any recorded audio becomes 16 kHz mono 16-bit WAV, a format every server build decodes.
async function toWav(blob) {
  const ctx = new (window.AudioContext || window.webkitAudioContext)({sampleRate: 16000});
  const audio = await ctx.decodeAudioData(await blob.arrayBuffer());
  const data = audio.getChannelData(0);
  const buf = new ArrayBuffer(44 + data.length * 2);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + data.length * 2, true); str(8, 'WAVE'); str(12, 'fmt ');
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, audio.sampleRate, true); v.setUint32(28, audio.sampleRate * 2, true);
  v.setUint16(32, 2, true); v.setUint16(34, 16, true); str(36, 'data'); v.setUint32(40, data.length * 2, true);
  for (let i = 0; i < data.length; i++)
    v.setInt16(44 + i * 2, Math.max(-1, Math.min(1, data[i])) * 0x7fff, true);
  ctx.close();
  return new Blob([buf], {type: 'audio/wav'});
}

async function toggleRecording() {
  if (state.recorder) { state.recorder.stop(); return; }
  if (!navigator.mediaDevices || !window.MediaRecorder) { setStatus('recording is not available here'); return; }
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({audio: true}); }
  catch (e) { setStatus('microphone: ' + e.message); return; }
  const chunks = [];
  const rec = new MediaRecorder(stream);
  rec.ondataavailable = (e) => chunks.push(e.data);
  rec.onstop = async () => {
    stream.getTracks().forEach((t) => t.stop());
    state.recorder = null;
    $('record').classList.remove('recording');
    setStatus('');
    const raw = new Blob(chunks, {type: rec.mimeType});
    let wav;
    try { wav = await toWav(raw); } catch (e) { setStatus('could not convert the recording: ' + e.message); return; }
    state.attachments.push({kind: 'audio', name: 'recording.wav', mime: 'audio/wav', dataUrl: await readAsDataUrl(wav)});
    renderAttachments();
  };
  state.recorder = rec;
  rec.start();
  $('record').classList.add('recording');
  setStatus('recording... press the microphone again to stop');
}

function contentOf(text, attachments) {
  if (!attachments.length) return text;
  const parts = [];
  for (const a of attachments) {
    if (a.kind === 'image') parts.push({type: 'image_url', image_url: {url: a.dataUrl}});
    else {
      const [head, data] = a.dataUrl.split(',');
      const fmt = (head.match(/audio\/([\w.+-]+)/) || [, 'wav'])[1].replace('mpeg', 'mp3').replace('x-wav', 'wav');
      parts.push({type: 'input_audio', input_audio: {data, format: fmt}});
    }
  }
  if (text) parts.push({type: 'text', text});
  return parts;
}

// Reads an SSE body, calling onEvent with each parsed data: JSON.
async function readSse(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += decoder.decode(value, {stream: true});
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, at);
      buf = buf.slice(at + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return;
        onEvent(JSON.parse(data));
      }
    }
  }
}

function setBusy(busy) {
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  $('input').disabled = false;
}

async function send() {
  const text = $('input').value.trim();
  if (!text && !state.attachments.length) return;
  if (state.controller) return;
  const attachments = state.attachments;
  state.attachments = [];
  renderAttachments();
  $('input').value = '';
  addMessage('user', text, attachments);
  state.history.push({role: 'user', content: contentOf(text, attachments)});

  const div = addMessage('assistant', '');
  const body = div.querySelector('.content');
  let thinkingBox = null, thinkingText = null;
  let content = '', reasoning = '';
  const messages = [];
  const system = $('system').value.trim();
  if (system) messages.push({role: 'system', content: system});
  messages.push(...state.history);
  const request = {
    messages, stream: true, stream_options: {include_usage: true},
    temperature: Number($('temperature').value),
    max_tokens: Number($('max-tokens').value),
    chat_template_kwargs: {enable_thinking: $('thinking').checked},
  };
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  setStatus('generating...');
  const t0 = performance.now();
  let usage = null, stopped = false;
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST', headers: headers(), body: JSON.stringify(request), signal: controller.signal});
    if (!res.ok) {
      let msg = res.status + ' ' + res.statusText;
      try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    await readSse(res, (e) => {
      if (e.error) throw new Error(e.error.message);
      if (e.usage) usage = e.usage;
      const d = e.choices && e.choices[0] && e.choices[0].delta;
      if (!d) return;
      if (d.reasoning_content) {
        if (!thinkingBox) {
          thinkingBox = document.createElement('details');
          thinkingBox.className = 'thinking';
          thinkingBox.open = true;
          const s = document.createElement('summary');
          s.textContent = 'Thinking';
          thinkingBox.appendChild(s);
          thinkingText = document.createElement('div');
          thinkingBox.appendChild(thinkingText);
          div.insertBefore(thinkingBox, body);
        }
        reasoning += d.reasoning_content;
        thinkingText.textContent = reasoning;
      }
      if (d.content) {
        if (thinkingBox) thinkingBox.open = false;
        content += d.content;
        body.textContent = content;
      }
      if (d.tool_calls) body.textContent = content + '\n[tool call] ' + JSON.stringify(d.tool_calls);
      scrollDown();
    });
  } catch (err) {
    if (err.name === 'AbortError') {
      stopped = true;
    } else {
      div.classList.add('error');
      body.textContent = (content ? content + '\n' : '') + 'Error: ' + err.message;
    }
  } finally {
    state.controller = null;
    setBusy(false);
  }
  if (stopped) {
    const s = document.createElement('div');
    s.className = 'stopped';
    s.textContent = '[stopped]';
    div.appendChild(s);
  }
  if (thinkingBox) thinkingBox.open = false;
  state.history.push({role: 'assistant', content});
  const secs = (performance.now() - t0) / 1000;
  setStatus(usage ? `${usage.completion_tokens} tokens in ${secs.toFixed(1)} s` +
                    (usage.prompt_tokens_details ? ` (${usage.prompt_tokens_details.cached_tokens} prompt tokens cached)` : '')
                  : stopped ? 'stopped' : '');
  div.dataset.done = 'true';
}

// Live talk over /v1/realtime: the microphone streams 16 kHz PCM16 while you speak and the
// server prefills it as it arrives, so the answer starts right after the second press. Each
// turn opens a session that first gets the conversation so far (text, and earlier spoken turns
// as audio); the spoken turn then joins state.history as a WAV, so typed messages see it too.
const LIVE_RATE = 16000;
const b64 = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
function pcm16(floats) {
  const out = new Int16Array(floats.length);
  for (let i = 0; i < floats.length; i++) out[i] = Math.max(-1, Math.min(1, floats[i])) * 0x7fff;
  return out;
}
function wavOf(chunks) {
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const buf = new ArrayBuffer(44 + n * 2);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + n * 2, true); str(8, 'WAVE'); str(12, 'fmt ');
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, LIVE_RATE, true); v.setUint32(28, LIVE_RATE * 2, true);
  v.setUint16(32, 2, true); v.setUint16(34, 16, true); str(36, 'data'); v.setUint32(40, n * 2, true);
  let o = 44;
  for (const c of chunks) for (let i = 0; i < c.length; i++, o += 2) v.setInt16(o, c[i], true);
  return new Uint8Array(buf);
}

async function toggleLive() {
  if (state.live) { stopLive(); return; }
  if (state.controller) return;
  if (!navigator.mediaDevices) { setStatus('the microphone is not available here'); return; }
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({audio: {channelCount: 1}}); }
  catch (e) { setStatus('microphone: ' + e.message); return; }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(proto + '//' + location.host + '/v1/realtime');
  const live = {ws, stream, chunks: [], ctx: null, answer: null, content: '', t0: 0};
  state.live = live;
  $('live').classList.add('recording');
  setStatus('connecting...');
  ws.onerror = () => setStatus('live: the connection failed');
  ws.onclose = () => { if (state.live === live) endLive(live, 'live: the connection closed'); };
  ws.onmessage = (m) => onLiveEvent(live, JSON.parse(m.data));
  await new Promise((resolve) => { ws.onopen = resolve; });
  const send = (e) => ws.send(JSON.stringify(e));
  const max = Number($('max-tokens').value);
  send({type: 'session.update', session: {
    instructions: $('system').value.trim(), temperature: Number($('temperature').value),
    max_output_tokens: max > 0 ? max : 'inf',
    audio: {input: {format: {type: 'audio/pcm', rate: LIVE_RATE}, turn_detection: null}}}});
  for (const m of state.history) {  // the conversation so far
    const parts = typeof m.content === 'string' ? [{type: 'text', text: m.content}] : m.content;
    const item = {type: 'message', role: m.role === 'assistant' ? 'assistant' : 'user', content: []};
    for (const p of parts) {
      if (p.type === 'text' && p.text) item.content.push({type: m.role === 'assistant' ? 'output_text' : 'input_text', text: p.text});
      if (p.type === 'input_audio' && state.spoken.has(m)) item.content.push({type: 'input_audio', audio: state.spoken.get(m)});
    }
    if (item.content.length) send({type: 'conversation.item.create', item});
  }
  const ctx = new AudioContext({sampleRate: LIVE_RATE});
  live.ctx = ctx;
  const src = ctx.createMediaStreamSource(stream);
  const proc = ctx.createScriptProcessor(2048, 1, 1);  // 128 ms per event at 16 kHz
  proc.onaudioprocess = (e) => {
    if (state.live !== live || live.stopped) return;
    const pcm = pcm16(e.inputBuffer.getChannelData(0));
    live.chunks.push(pcm);
    send({type: 'input_audio_buffer.append', audio: b64(new Uint8Array(pcm.buffer))});
  };
  src.connect(proc);
  proc.connect(ctx.destination);
  setStatus('listening... press Talk again when you are done');
}

function stopLive() {
  const live = state.live;
  if (!live || live.stopped) return;
  live.stopped = true;
  live.stream.getTracks().forEach((t) => t.stop());
  if (live.ctx) live.ctx.close();
  $('live').classList.remove('recording');
  if (!live.chunks.length) { endLive(live, 'nothing was recorded'); return; }
  const wav = wavOf(live.chunks);
  live.wav = wav;
  addMessage('user', '', [{kind: 'audio', name: 'spoken.wav', dataUrl: 'data:audio/wav;base64,' + b64(wav)}]);
  live.answer = addMessage('assistant', '');
  live.t0 = performance.now();
  setStatus('answering...');
  live.ws.send(JSON.stringify({type: 'input_audio_buffer.commit'}));
  live.ws.send(JSON.stringify({type: 'response.create'}));
}

function onLiveEvent(live, e) {
  if (e.type === 'response.output_text.delta' && live.answer) {
    if (!live.first) live.first = performance.now();
    live.content += e.delta;
    live.answer.querySelector('.content').textContent = live.content;
    scrollDown();
  } else if (e.type === 'response.done') {
    const spoken = {role: 'user', content: [{type: 'input_audio', input_audio: {data: b64(live.wav), format: 'wav'}}]};
    state.spoken.set(spoken, b64(live.wav.subarray(44)));  // PCM16 at 16 kHz for the next session
    state.history.push(spoken);
    state.history.push({role: 'assistant', content: live.content});
    const u = e.response.usage;
    const first = live.first ? ((live.first - live.t0) / 1000).toFixed(2) + ' s to the first word, ' : '';
    endLive(live, `${first}${u.output_tokens} tokens (${e.response.status})`);
  } else if (e.type === 'error') {
    if (live.answer) live.answer.classList.add('error');
    endLive(live, 'live: ' + e.error.message);
  }
}

function endLive(live, status) {
  if (state.live !== live) return;
  state.live = null;
  live.stopped = true;
  live.stream.getTracks().forEach((t) => t.stop());
  if (live.ctx && live.ctx.state !== 'closed') live.ctx.close();
  $('live').classList.remove('recording');
  if (live.answer) live.answer.dataset.done = 'true';
  try { live.ws.close(); } catch (e) { /* already closed */ }
  setStatus(status);
}

function newChat() {
  if (state.live) endLive(state.live, '');
  if (state.controller) state.controller.abort();
  state.history = [];
  state.attachments = [];
  renderAttachments();
  $('messages').textContent = '';
  setStatus('');
}

async function showModel() {
  try {
    const r = await fetch('/v1/models', {headers: headers()});
    if (r.ok) $('model').textContent = (await r.json()).data[0].id;
  } catch (e) { /* the page still works without it */ }
}

loadSettings();
showModel();
$('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
});
$('input').addEventListener('input', () => {
  const t = $('input');
  t.style.height = 'auto';
  t.style.height = Math.min(t.scrollHeight, 192) + 'px';
});
$('input').addEventListener('paste', (e) => {
  for (const item of e.clipboardData.items)
    if (item.kind === 'file') { const f = item.getAsFile(); if (f) { addFile(f); e.preventDefault(); } }
});
$('file').addEventListener('change', async (e) => {
  for (const f of e.target.files) await addFile(f);
  e.target.value = '';
});
$('record').addEventListener('click', toggleRecording);
$('live').addEventListener('click', toggleLive);
$('stop').addEventListener('click', () => { if (state.controller) state.controller.abort(); });
$('new-chat').addEventListener('click', newChat);
$('open-settings').addEventListener('click', () => { $('settings').hidden = !$('settings').hidden; });
for (const k of settingsKeys) $(k).addEventListener('change', () => { saveSettings(); if (k === 'api-key') showModel(); });
