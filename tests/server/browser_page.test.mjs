// The web chat page in headless Chromium (playwright-core + /usr/bin/chromium): loads, streams
// an answer, takes an image upload, stops a generation. Screenshots go to
// BUILD_DIR/test-artifacts/server-browser/. Run: node browser_page.test.mjs UNIGEMMA BUILD_DIR
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {chromium} from 'playwright-core';
import {startServer} from './harness.mjs';

// A small RGB PNG built by hand (no image library needed).
function png(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w * 3; x++) raw[y * (w * 3 + 1) + 1 + x] = (x * 7 + y * 13) & 255;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
                        chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// 3 s of 16 kHz mono PCM16: a tone whose pitch and loudness move, for the fake microphone.
function toneWav() {
  const rate = 16000, n = 3 * rate;
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVE', 8); b.write('fmt ', 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(2 * rate, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36);
  b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    b.writeInt16LE(Math.round(9000 * (0.6 + 0.4 * Math.sin(6 * Math.PI * t)) *
                              Math.sin(2 * Math.PI * (220 + 80 * Math.sin(5 * t)) * t)), 44 + 2 * i);
  }
  return b;
}

let srv, browser, page;
before(async () => {
  srv = await startServer(process.argv[2], process.argv[3], 'browser');
  const mic = path.join(srv.dir, 'fake-mic.wav');
  fs.writeFileSync(mic, toneWav());
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run',
           '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
           '--use-file-for-fake-audio-capture=' + mic],
  });
  page = await browser.newPage({viewport: {width: 390, height: 844}});  // phone-sized
  page.on('pageerror', (e) => { throw e; });
});
after(async () => {
  if (browser) await browser.close();
  await srv.stop();
});

const shot = (name) => page.screenshot({path: path.join(srv.dir, name + '.png'), fullPage: true});

test('the page loads and streams an answer', async () => {
  await page.goto(srv.base + '/');
  assert.equal(await page.title(), 'unigemma chat');
  await page.waitForFunction(() => document.getElementById('model').textContent === 'model');
  await page.click('#open-settings');
  await page.fill('#max-tokens', '40');
  await page.fill('#temperature', '1');
  await page.dispatchEvent('#max-tokens', 'change');
  // Record every length the answer shows while it grows.
  await page.evaluate(() => {
    window.seen = [];
    new MutationObserver(() => {
      const c = document.querySelector('.msg.assistant .content');
      if (c) window.seen.push(c.textContent.length);
    }).observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true});
  });
  await page.fill('#input', 'Hello, who are you?');
  await page.click('#send');
  await page.waitForSelector('.msg.assistant[data-done="true"]', {timeout: 60000});
  const seen = await page.evaluate(() => window.seen);
  const final = seen[seen.length - 1];
  assert.ok(final > 0, 'an answer appeared');
  assert.ok(new Set(seen.filter((n) => n > 0)).size >= 2, 'the answer grew in several steps: ' + seen);
  assert.match(await page.textContent('#status'), /tokens in/);
  await shot('1-streamed-answer');
});

test('an image upload is previewed and sent', async () => {
  await page.setInputFiles('#file', {name: 'test.png', mimeType: 'image/png', buffer: png(40, 30)});
  await page.waitForSelector('.attachment img');
  await shot('2-image-attached');
  await page.fill('#input', 'What is in this picture?');
  await page.click('#send');
  await page.waitForSelector('.msg.assistant:nth-of-type(4)[data-done="true"]', {timeout: 60000});
  assert.equal(await page.locator('.msg.user img').count(), 1);
  assert.equal(await page.locator('.msg.error').count(), 0, await page.textContent('#messages'));
  await shot('3-image-answer');
});

test('stop ends a generation and the page keeps working', async () => {
  await page.fill('#max-tokens', '900');
  await page.dispatchEvent('#max-tokens', 'change');
  await page.fill('#input', 'Write a very long story');
  await page.click('#send');
  await page.waitForFunction(() => {
    const all = document.querySelectorAll('.msg.assistant .content');
    return all.length === 3 && all[2].textContent.length > 0;
  });
  await page.click('#stop');
  await page.waitForSelector('.stopped');
  assert.equal(await page.isVisible('#send'), true);
  await shot('4-stopped');
  await page.click('#new-chat');
  assert.equal(await page.locator('.msg').count(), 0);
  // The cancelled request freed its slot.
  let metrics = '';
  for (let i = 0; i < 50 && !/unigemma_active_slots 0\n/.test(metrics); i++) {
    metrics = await (await fetch(srv.base + '/metrics')).text();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(metrics, /unigemma_active_slots 0\n/);
});

test('Talk streams the microphone over /v1/realtime and shows the answer', async () => {
  // The fake capture device plays this WAV (a tone) in a loop: see the launch flags.
  await page.click('#new-chat');
  await page.fill('#max-tokens', '12');
  await page.dispatchEvent('#max-tokens', 'change');
  await page.click('#live');
  await page.waitForFunction(() => /listening/.test(document.getElementById('status').textContent),
                             null, {timeout: 20000});
  await page.waitForTimeout(1500);  // speak for a while
  await page.click('#live');
  await page.waitForSelector('.msg.assistant[data-done="true"]', {timeout: 60000});
  assert.ok(await page.$('.msg.user audio'), 'the spoken turn is shown as audio');
  const status = await page.textContent('#status');
  assert.match(status, /tokens \((completed|incomplete)\)/, status);
  assert.ok((await page.textContent('.msg.assistant .content')).length > 0);
  await shot('5-live-talk');
  // A typed follow-up carries the spoken turn as audio in the history.
  await page.fill('#input', 'And?');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant[data-done="true"]').length === 2,
                             null, {timeout: 60000});
  assert.doesNotMatch(await page.textContent('.msg.assistant:last-child'), /Error/);
});
