#!/usr/bin/python3
"""Constrained generation over the schema corpus, checked by an independent validator.

For every schema in tests/grammar/schemas/ (SOURCES.md says where they come from), the C++ tool
`unigemma grammar-check` compiles it on the real Gemma vocabulary (or refuses it, naming the
keyword) and generates from random logits under the mask; this script validates every finished
output with python3-jsonschema (Debian), formats included. Any invalid finished output fails.

Usage: check_corpus.py UNIGEMMA NPM_TOKENIZER_JSON [--samples N] [--max-tokens N] [--every K]
       [--report FILE]
Exit 0 when every finished output is valid, 1 otherwise, 77 (skip) when the vocabulary is absent.
"""
import argparse
import collections
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed: skipped")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))


def format_checker():
    """jsonschema's FormatChecker plus the formats whose checkers need packages Debian lacks."""
    fc = jsonschema.FormatChecker()

    def rfc3339_time(s):
        m = re.fullmatch(r"(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|z|[+-]\d\d:\d\d)", s)
        if not m:
            return False
        h, mi, se = int(m[1]), int(m[2]), int(m[3])
        return h < 24 and mi < 60 and se < 61

    @fc.checks("date-time", raises=ValueError)
    def date_time(s):
        if not isinstance(s, str):
            return True
        date, sep, time = s.partition("T") if "T" in s else s.partition("t")
        if not sep:
            return False
        datetime.date.fromisoformat(date)
        return len(date) == 10 and rfc3339_time(time)

    @fc.checks("time", raises=ValueError)
    def time_(s):
        return not isinstance(s, str) or rfc3339_time(s)

    @fc.checks("duration")
    def duration(s):
        return not isinstance(s, str) or bool(
            re.fullmatch(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?", s))

    @fc.checks("hostname")
    def hostname(s):
        if not isinstance(s, str):
            return True
        label = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        return len(s) <= 253 and bool(re.fullmatch(rf"{label}(\.{label})*", s))

    return fc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("unigemma")
    ap.add_argument("vocab")
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--every", type=int, default=1, help="take every K-th schema (CI subset)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--report", help="write the per-schema results (JSON lines) here")
    a = ap.parse_args()
    if not os.path.exists(a.vocab):
        print(f"{a.vocab} is missing (npm packages not installed): skipped")
        return 77
    files = sorted(glob.glob(os.path.join(HERE, "schemas", "*", "*.json")))[:: a.every]
    with tempfile.TemporaryDirectory() as tmp:
        out = a.report or os.path.join(tmp, "out.jsonl")
        cmd = [a.unigemma, "grammar-check", "--npm-vocab", a.vocab, "--samples", str(a.samples),
               "--max-tokens", str(a.max_tokens), "--seed", str(a.seed), "-o", out]
        for f in files:
            cmd += ["--schema", f]
        subprocess.run(cmd, check=True)
        records = [json.loads(line) for line in open(out)]
    summary = records[-1]
    fc = format_checker()
    compiled = refused = samples = finished = valid = 0
    reasons = collections.Counter()
    by_group = collections.defaultdict(lambda: [0, 0])
    failures = []
    for r in records[:-1]:
        group = os.path.basename(os.path.dirname(r["file"]))
        by_group[group][1] += 1
        if not r["ok"]:
            refused += 1
            m = re.search(r'(unsupported JSON Schema keyword "[^"]+"|unsupported \$ref|'
                          r'unsupported JSON Schema format "[^"]+"|oneOf|allOf|pattern|'
                          r'minLength/maxLength|grammar)', r["error"])
            reasons[m.group(1) if m else r["error"][:60]] += 1
            continue
        compiled += 1
        by_group[group][0] += 1
        schema = json.load(open(r["file"]))
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        validator = cls(schema, format_checker=fc)
        for s in r["samples"]:
            samples += 1
            if not s["finished"]:
                continue
            finished += 1
            try:
                value = json.loads(s["text"])
                errors = list(validator.iter_errors(value))
            except ValueError as e:
                errors = [f"not JSON: {e}"]
            if errors:
                failures.append((r["file"], s["text"][:300], str(errors[0])[:300]))
            else:
                valid += 1
    total = compiled + refused
    print(f"schemas: {total}, compiled {compiled} ({100.0 * compiled / max(total, 1):.1f} %), "
          f"refused {refused}")
    for g, (c, n) in sorted(by_group.items()):
        print(f"  {g}: {c}/{n} compiled")
    print("refusals by reason:")
    for k, v in reasons.most_common():
        print(f"  {v:4d}  {k}")
    print(f"outputs: {samples}, finished within {a.max_tokens} tokens: {finished} "
          f"({100.0 * finished / max(samples, 1):.1f} %), valid: {valid}/{finished}")
    print(f"compile ms p50 {summary['compile_ms_p50']:.2f} (cpu {summary['compile_cpu_ms_p50']:.2f}), "
          f"mask us p50 {summary['mask_us_p50']:.1f} p99 {summary['mask_us_p99']:.1f} "
          f"(cpu p50 {summary['mask_cpu_us_p50']:.1f} p99 {summary['mask_cpu_us_p99']:.1f}) "
          f"over {summary['mask_steps']} steps")
    for f, text, err in failures[:20]:
        print(f"INVALID {f}\n  output: {text}\n  error: {err}")
    print(f"{valid} passed, {len(failures)} failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
