#!/usr/bin/env python3
"""Soak: N clients stream chat completions (OpenAI SSE and Ollama NDJSON) for a given time, a
share of them hanging up mid-stream at a random point. Reports the server's RSS over time (goal:
growth after warm-up < 5 %), slots still busy once the clients stopped (goal: none) and whether
/metrics counts agree with what the clients saw.

  tests/server/load/soak.py [--binary build/unigemma] [--clients 32] [--duration 300]"""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

ROUTES = {'openai': '/v1/chat/completions', 'ollama': '/api/chat'}


def one_stream(port, rng, hang_up_prob, longest, counts, lock):
    kind = rng.choice(['openai', 'ollama'])
    max_tokens = rng.randint(4, longest)
    text = 'Tell me about request %d' % rng.randint(0, 10**6)
    if kind == 'openai':
        body = {'messages': [{'role': 'user', 'content': text}], 'max_tokens': max_tokens,
                'stream': True, 'temperature': 1.0, 'seed': rng.randint(0, 10**6)}
    else:
        body = {'messages': [{'role': 'user', 'content': text}],
                'options': {'num_predict': max_tokens, 'temperature': 1.0}}
    hang_up_after = rng.randint(1, 20) if rng.random() < hang_up_prob else None
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    outcome = 'error'
    status = 0
    try:
        c.request('POST', ROUTES[kind], body=json.dumps(body),
                  headers={'Content-Type': 'application/json'})
        r = c.getresponse()
        status = r.status
        if status != 200:
            r.read()
            outcome = 'status'
        else:
            events = 0
            outcome = 'cut'
            while True:
                line = r.readline()
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                events += 1
                if hang_up_after is not None and events >= hang_up_after:
                    outcome = 'hung_up'
                    break
                if line == b'data: [DONE]' or (kind == 'ollama' and b'"done":true' in line):
                    outcome = 'done'
                    break
    except (OSError, http.client.HTTPException):
        outcome = 'error'
    finally:
        c.close()
    with lock:
        counts[outcome] = counts.get(outcome, 0) + 1
        key = (ROUTES[kind], status)
        counts[key] = counts.get(key, 0) + 1


def main():
    p = common.arg_parser(__doc__)
    p.add_argument('--clients', type=int, default=32)
    p.add_argument('--duration', type=float, default=300.0, help='seconds')
    p.add_argument('--hang-up', type=float, default=0.3, help='share of streams cut by the client')
    p.add_argument('--warmup', type=float, default=0.2, help='share of the run before RSS counts')
    p.add_argument('--sample', type=float, default=10.0, help='seconds between RSS samples')
    p.add_argument('--parallel', type=int, default=4)
    p.add_argument('--max-tokens', type=int, default=64, help='longest answer asked (4..N)')
    p.add_argument('--seed', type=int, default=1)
    args = p.parse_args()
    srv = common.Server(args.binary, args.build_dir, ['--queue', '64'], parallel=args.parallel,
                        ctx=1024)
    counts, lock = {}, threading.Lock()
    stop = threading.Event()

    def client(i):
        rng = random.Random(args.seed * 1000 + i)
        while not stop.is_set():
            one_stream(srv.port, rng, args.hang_up, args.max_tokens, counts, lock)

    samples = []
    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        t0 = time.time()
        for t in threads:
            t.start()
        while time.time() - t0 < args.duration:
            samples.append((time.time() - t0, srv.rss_kib()))
            print('  t=%5.0f s  RSS %.1f MiB  %s' % (samples[-1][0], samples[-1][1] / 1024,
                  {k: v for k, v in counts.items() if isinstance(k, str)}), flush=True)
            time.sleep(min(args.sample, max(0.0, args.duration - (time.time() - t0))))
        stop.set()
        for t in threads:
            t.join()
        samples.append((time.time() - t0, srv.rss_kib()))
        # Everything has ended from the clients' side: slots must drain at once.
        busy = None
        for _ in range(100):
            m = common.metrics(srv.port)
            busy = (m.get('unigemma_active_slots', -1), m.get('unigemma_queue_length', -1))
            if busy == (0, 0):
                break
            time.sleep(0.1)
        m = common.metrics(srv.port)
    finally:
        srv.stop()
    warm = [s for s in samples if s[0] >= args.warmup * args.duration] or samples
    base = warm[0][1]
    end = sorted(s[1] for s in warm[-3:])[len(warm[-3:]) // 2]
    growth = (end - base) / base * 100
    print('RSS after warm-up: %.1f MiB -> %.1f MiB (%+.1f %%, goal < 5 %%: %s); peak %.1f MiB' %
          (base / 1024, end / 1024, growth, 'met' if growth < 5 else 'NOT met',
           max(s[1] for s in samples) / 1024))
    streams = {k: v for k, v in counts.items() if isinstance(k, str)}
    print('streams: %s' % streams)
    print('slots busy / queued after the clients stopped: %d / %d (goal 0 / 0: %s)' %
          (busy[0], busy[1], 'met' if busy == (0, 0) else 'NOT met'))
    consistent = True
    for (route, status), n in sorted((k, v) for k, v in counts.items() if isinstance(k, tuple)):
        if status == 0:
            continue
        server_n = m.get('unigemma_requests_total{route="%s",status="%d"}' % (route, status), 0)
        ok = int(server_n) == n
        consistent &= ok
        print('  %s %d: clients %d, /metrics %d %s' % (route, status, n, server_n,
                                                      '' if ok else '(MISMATCH)'))
    print('generated tokens: %d; /metrics consistent: %s' %
          (m.get('unigemma_generated_tokens_total', 0), consistent))
    if growth >= 5 or busy != (0, 0) or not consistent:
        sys.exit(1)


if __name__ == '__main__':
    main()
