#!/usr/bin/env node
// Writes tests/tokenizer/corpus.txt: a deterministic multilingual tokenizer corpus (one sample per
// line). Samples need newlines and carriage returns, which a line file cannot hold, so both readers
// (oracle.js and the C++ test) map U+2424 "␤" to "\n" and U+240D "␍" to "\r". Tabs are literal.
// Usage: node tests/tokenizer/gen_corpus.js [out_path]
"use strict";
const fs = require("fs");
const path = require("path");

// mulberry32: a tiny seeded PRNG, so the corpus is identical on every machine.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20260429);
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const NL = "␤";

const words = {
  en: ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Hello", "world", "tokenizer",
       "inference", "engine", "model", "weights", "capital", "Portugal", "answer", "sentence",
       "internationalization", "don't", "it's", "U.S.A.", "e-mail", "state-of-the-art", "GPU"],
  fr: ["café", "résumé", "naïve", "garçon", "où", "déjà", "Noël", "élève", "hôpital", "œuvre"],
  de: ["Straße", "Größe", "Übermäßig", "schön", "Fußgängerübergang", "Äpfel", "Mädchen"],
  pl: ["zażółć", "gęślą", "jaźń", "Łódź", "źdźbło", "część", "Kraków"],
  es: ["niño", "año", "¿Qué", "pasó?", "¡Hola!", "corazón", "mañana"],
  vi: ["Tiếng", "Việt", "người", "được", "những", "trường"],
  ru: ["Привет", "мир", "съешь", "ещё", "этих", "мягких", "французских", "булок"],
  el: ["Καλημέρα", "κόσμε", "ψυχή", "αλήθεια"],
  zh: ["你好", "世界", "机器学习", "自然语言处理", "今天天气很好", "我们", "模型", "中华人民共和国"],
  ja: ["こんにちは", "世界", "東京", "カタカナ", "ひらがな", "日本語の文章", "ｶﾀｶﾅ"],
  ko: ["안녕하세요", "세계", "한국어", "토크나이저", "감사합니다"],
  ar: ["مرحبا", "بالعالم", "اللغة", "العربية", "السلام عليكم", "كتاب"],
  he: ["שלום", "עולם", "עברית"],
  hi: ["नमस्ते", "दुनिया", "हिन्दी", "भाषा", "क्षत्रिय", "श्री"],
  th: ["สวัสดี", "ภาษาไทย", "ครับ"],
  ta: ["வணக்கம்", "தமிழ்"],
};
const langs = Object.keys(words);
const emoji = ["👋", "😀", "🎉", "🚀", "❤️", "👍🏽", "🇵🇹", "🇯🇵", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈",
               "🧑‍🚀", "👁️‍🗨️", "✨", "🤖", "1️⃣", "©️", "☕", "🐈‍⬛", "🫠"];
const specials = ["<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<|turn>", "<turn|>", "<|think|>",
                  "<|channel>", "<channel|>", "<|tool>", "<tool|>", "<|tool_call>", "<tool_call|>",
                  "<|tool_response>", "<tool_response|>", "<|\"|>", "<|image>", "<image|>",
                  "<|image|>", "<|audio>", "<audio|>", "<|audio|>", "<|video|>",
                  // Gemma 3 names, which are plain text (or unused slots) in Gemma 4:
                  "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<image_soft_token>",
                  "<unused0>", "<unused99>", "<unused6241>", "[multimodal]"];
const html = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<b>", "</b>", "<i>", "<div>",
              "</div>", "<p>", "</p>", "<br>", "<a href=\"x\">", "</a>", "<span>", "<ul>", "<li>",
              "<h1>", "</h1>", "<code>", "<pre>", "<!-- c -->", "<img src='a.png'/>"];
const bytesLike = ["<0x41>", "<0x0A>", "<0xFF>", "<0x00>", "<0xE4>", "<0x>", "<0xZZ>", "<0x4142>",
                   "0x41", "<0X41>", "<0x0a>"];
const accents = ["é", "è", "ê", "ë", "ñ", "ç", "ø", "å", "ü", "ö", "ä", "ß", "œ", "æ", "ı", "ğ", "ş",
                 "e\u0301", "a\u0308", "n\u0303", "\u00a0", "\u2009", "\u200b", "\ufeff", "ﬁ", "Ⅻ",
                 "①", "½", "²", "µ", "Å", "Ω"];
const rare = ["\u0000", "\u0007", "\u001b[31m", "\u007f", "\u0085", "\u2028", "\u2029", "\ue000",
              "\ufffd", "\u{10ffff}", "\u{1d400}", "\u{1f9ff}", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u{20000}", "\u{2a6d6}",
              "\u0e01\u0e33", "\u0915\u094d\u0937"];

function ws() {
  return pick([" ", "  ", "   ", "\t", "\t\t", " \t ", NL, NL + NL, NL + NL + NL, " " + NL, "\u3000",
               " ".repeat(int(4, 40)), "\t".repeat(int(3, 35)), NL.repeat(int(4, 40)),
               "▁", "▁▁", "▁▁▁ ", "␍" + NL]);
}
function sentence(lang) {
  const n = int(1, 12);
  const out = [];
  for (let i = 0; i < n; i++) out.push(pick(words[lang]));
  const sep = lang === "zh" || lang === "ja" ? pick(["", "", "，", "、"]) : " ";
  return out.join(sep) + pick(["", ".", "!", "?", "。", "…", ":", ";", "..."]);
}
function number() {
  return pick([String(int(0, 9)), String(int(10, 99999)), String(int(0, 1e9)) + "." + int(0, 999),
               "-" + int(1, 500), "1e" + int(-9, 9), "0x" + int(0, 65535).toString(16),
               "3.14159265358979", "2026-04-29", "12:34:56", "+351 912 345 678", "1,000,000",
               "٣٤٥", "१२३", "１２３"]);
}
function code() {
  return pick([
    "def f(x):" + NL + "    return x * 2",
    "for (int i = 0; i < n; ++i) {" + NL + "\tsum += a[i];" + NL + "}",
    "const x = await fetch(`/api/${id}`);",
    "#include <stdio.h>" + NL + "int main(void) { printf(\"%d\\n\", 42); }",
    "SELECT name, COUNT(*) FROM t WHERE x > 3 GROUP BY name;",
    "if __name__ == \"__main__\":" + NL + "    main()",
    "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v); }",
    "x = [i**2 for i in range(10) if i % 2 == 0]",
    "$ git log --oneline | head -n 5 && echo \"done\"",
    "std::vector<std::pair<int, float>> v{{1, 2.0f}};",
    "<?php echo htmlspecialchars($s); ?>",
    "a &&= b || c ?? d; // comment /* nested */",
    "    indented    code    with    spaces",
  ]);
}
function json() {
  const obj = {};
  const n = int(1, 5);
  for (let i = 0; i < n; i++) {
    const k = pick(["name", "id", "tokens", "emoji", "text", "nested", "ok", "n"]);
    obj[k] = pick([sentence(pick(langs)), int(-1000, 1000), rand() < 0.5, null, [1, 2, 3],
                   {a: pick(emoji), b: "x\"y"}]);
  }
  return rand() < 0.5 ? JSON.stringify(obj) : JSON.stringify(obj, null, pick([2, 4, "\t"]))
                                                   .split("\n").join(NL);
}
function fragment() {
  const r = rand();
  if (r < 0.30) return sentence(pick(langs));
  if (r < 0.38) return number();
  if (r < 0.46) return pick(emoji) + (rand() < 0.3 ? pick(emoji) : "");
  if (r < 0.53) return pick(specials);
  if (r < 0.60) return pick(html);
  if (r < 0.65) return pick(bytesLike);
  if (r < 0.72) return pick(accents) + pick(words[pick(langs)]);
  if (r < 0.77) return pick(rare);
  if (r < 0.85) return code();
  if (r < 0.90) return json();
  return ws();
}

const lines = [];
// Fixed samples first: the spec's reference encodings and the chat prompt.
lines.push("hello", " hello", "  hello", "   ", NL + NL, "\t\t", "Hello, World!", "12345",
           "你好世界", "hello 👋 world", "café résumé naïve",
           "<bos><|turn>user" + NL + "Hello<turn|>" + NL + "<|turn>model" + NL,
           "<|image><|image|><|image|><image|>", " ", NL, "\t", "▁", "▁▁hello", "<", "<<|turn>>",
           "<|turn", "turn|>", "<bos<bos>>", "<table><table>", "<unused5><unused05>");
while (lines.length < 2400) {
  const n = int(1, 8);
  let s = "";
  for (let i = 0; i < n; i++) s += fragment() + (rand() < 0.6 ? pick([" ", "", ws()]) : "");
  // A sample must not contain a literal newline (it is a line of the file).
  s = s.replace(/\n/g, NL).replace(/\r/g, "␍");
  if (s.length > 0) lines.push(s);
}
// Some long lines for the BPE (long words, long runs of one character).
lines.push("a".repeat(3000), "▁".repeat(100), " ".repeat(1000) + "x", "ab".repeat(700),
           "你".repeat(500), "👨‍👩‍👧‍👦".repeat(50), "=".repeat(200), "0123456789".repeat(100));

const out = process.argv[2] || path.join(__dirname, "corpus.txt");
fs.writeFileSync(out, lines.join("\n") + "\n");
console.log(`wrote ${lines.length} lines to ${out}`);
