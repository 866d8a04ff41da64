#!/usr/bin/env python3
"""SIGTERM with long streams running: starts N streams (OpenAI SSE and Ollama NDJSON, half
each), sends SIGTERM once every stream has produced output, and checks that the server exits 0
within --shutdown-timeout and that every client got a proper end of stream (a final event with
finish_reason / done_reason "shutdown" (or a natural end), then [DONE] for OpenAI).

  tests/server/load/sigterm.py [--binary build/unigemma] [--streams 8] [--timeout 10]"""
import http.client
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


def stream(port, i, max_tokens, started, results):
    openai = i % 2 == 0
    text = 'Write a very long story number %d' % i
    if openai:
        path = '/v1/chat/completions'
        body = {'messages': [{'role': 'user', 'content': text}], 'max_tokens': max_tokens,
                'stream': True, 'temperature': 1.0, 'seed': i}
    else:
        path = '/api/chat'
        body = {'messages': [{'role': 'user', 'content': text}],
                'options': {'num_predict': max_tokens, 'temperature': 1.0, 'seed': i}}
    lines = []
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    try:
        c.request('POST', path, body=json.dumps(body), headers={'Content-Type': 'application/json'})
        r = c.getresponse()
        while True:
            line = r.readline()
            if not line:
                break
            line = line.strip()
            if line:
                lines.append(line.decode('utf-8', 'replace'))
                started[i].set()
        ended_cleanly = True
    except (OSError, http.client.HTTPException) as e:
        ended_cleanly = False
        lines.append('client error: %r' % e)
    finally:
        c.close()
        started[i].set()
    results[i] = (openai, ended_cleanly, lines)


def verdict(openai, ended_cleanly, lines):
    """(proper end?, reason seen)"""
    if not ended_cleanly or not lines:
        return False, 'connection cut'
    if openai:
        if lines[-1] != 'data: [DONE]' or len(lines) < 2:
            return False, 'no [DONE]'
        last = json.loads(lines[-2][len('data: '):])
        reason = last['choices'][0].get('finish_reason') if last.get('choices') else None
        return reason in ('shutdown', 'length', 'stop'), str(reason)
    last = json.loads(lines[-1])
    return last.get('done') is True, str(last.get('done_reason'))


def main():
    p = common.arg_parser(__doc__)
    p.add_argument('--streams', type=int, default=8)
    p.add_argument('--timeout', type=float, default=10.0, help='--shutdown-timeout')
    p.add_argument('--max-tokens', type=int, default=4000)
    p.add_argument('--after', type=float, default=2.0,
                   help='seconds the streams run (once all started) before SIGTERM')
    args = p.parse_args()
    srv = common.Server(args.binary, args.build_dir,
                        ['--shutdown-timeout', str(args.timeout), '--queue', str(args.streams)],
                        parallel=args.streams, ctx=args.max_tokens + 64)
    started = [threading.Event() for _ in range(args.streams)]
    results = [None] * args.streams
    threads = [threading.Thread(target=stream, args=(srv.port, i, args.max_tokens, started, results))
               for i in range(args.streams)]
    for t in threads:
        t.start()
    for e in started:
        e.wait(120)
    time.sleep(args.after)
    t0 = time.time()
    srv.proc.send_signal(signal.SIGTERM)
    try:
        code = srv.proc.wait(args.timeout + 20)
    except Exception:
        srv.proc.kill()
        code = srv.proc.wait()
    elapsed = time.time() - t0
    for t in threads:
        t.join(30)
    ok = code == 0 and elapsed <= args.timeout
    print('SIGTERM with %d streams: exit code %d after %.2f s (timeout %.0f s)' %
          (args.streams, code, elapsed, args.timeout))
    for i, res in enumerate(results):
        if res is None:
            print('  stream %d: no result' % i)
            ok = False
            continue
        proper, reason = verdict(*res)
        ok &= proper
        print('  stream %d (%s): %d events, %s end (%s)' %
              (i, 'openai' if res[0] else 'ollama', len(res[2]), 'proper' if proper else 'NO proper',
               reason))
    if not ok:
        print(srv.read_log()[-2000:])
        common.fail('not every stream ended properly, or the exit was late or not 0')
    print('PASS')


if __name__ == '__main__':
    main()
