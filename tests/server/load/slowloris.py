#!/usr/bin/env python3
"""Slowloris against `unigemma serve`: N connections each send a request header one byte every
few seconds (reconnecting when the server drops them), while /health is polled. Reports /health
latency (p50, p99, max) and failures. Goal: p99 < 200 ms with 200 connections.

  tests/server/load/slowloris.py [--binary build/unigemma] [--connections 200] [--duration 60]
  --check: exit 1 unless every /health answered 200 within --max-ms (a short ctest run)."""
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


async def slow_client(port, interval, stop, stats):
    header = ('GET /health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n' % port +
              ''.join('X-Slow-%d: %s\r\n' % (i, 'x' * 20) for i in range(40)))
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
        except OSError:
            stats['connect_errors'] += 1
            await asyncio.sleep(interval)
            continue
        stats['opened'] += 1
        stats['open'] += 1
        try:
            for ch in header:
                if stop.is_set():
                    break
                writer.write(ch.encode())
                await writer.drain()
                try:  # a byte every `interval`; the server may answer (408) or close meanwhile
                    data = await asyncio.wait_for(reader.read(4096), interval)
                    if not data:
                        stats['closed_by_server'] += 1
                        break
                    stats['answered'] += 1
                    break
                except asyncio.TimeoutError:
                    pass
        except (ConnectionError, OSError):
            stats['closed_by_server'] += 1
        finally:
            stats['open'] -= 1
            writer.close()


async def health_poller(port, period, stop, latencies, failures):
    request = ('GET /health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n' %
               port).encode()
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), 5)
            writer.write(request)
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            ms = (time.perf_counter() - t0) * 1000
            if data.startswith(b'HTTP/1.1 200'):
                latencies.append(ms)
            else:
                failures.append(data[:60].decode('latin1') or 'closed')
        except (OSError, asyncio.TimeoutError) as e:
            failures.append(type(e).__name__)
        await asyncio.sleep(period)


async def run(port, args):
    stop = asyncio.Event()
    stats = dict(opened=0, open=0, closed_by_server=0, answered=0, connect_errors=0)
    latencies, failures = [], []
    held = []
    tasks = [asyncio.create_task(slow_client(port, args.interval, stop, stats))
             for _ in range(args.connections)]
    await asyncio.sleep(min(2.0, args.duration / 4))  # let them connect
    poller = asyncio.create_task(health_poller(port, args.poll_ms / 1000, stop, latencies,
                                               failures))
    t_end = time.time() + args.duration
    while time.time() < t_end:
        held.append(stats['open'])
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(poller, *tasks, return_exceptions=True)
    return stats, latencies, failures, held


def main():
    p = common.arg_parser(__doc__)
    p.add_argument('--connections', type=int, default=200)
    p.add_argument('--interval', type=float, default=3.0, help='seconds between bytes')
    p.add_argument('--duration', type=float, default=60.0, help='seconds of polling')
    p.add_argument('--poll-ms', type=float, default=50.0)
    p.add_argument('--goal-ms', type=float, default=200.0, help='p99 goal (reported)')
    p.add_argument('--check', action='store_true', help='exit 1 on a failure or max over --max-ms')
    p.add_argument('--max-ms', type=float, default=2000.0)
    args = p.parse_args()
    srv = common.Server(args.binary, args.build_dir)
    try:
        rss0 = srv.rss_kib()
        stats, lat, failures, held = asyncio.run(run(srv.port, args))
        rss1 = srv.rss_kib()
    finally:
        srv.stop()
    held_avg = sum(held) / max(len(held), 1)
    print('slowloris: %d connections (a byte every %.1f s) for %.0f s: %d opened, %d closed by the '
          'server, %.0f held open on average (min %d)' %
          (args.connections, args.interval, args.duration, stats['opened'],
           stats['closed_by_server'] + stats['answered'], held_avg, min(held or [0])))
    print('/health: %d answered, %d failed; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms '
          '(goal p99 < %.0f ms: %s)' %
          (len(lat), len(failures), common.percentile(lat, 50), common.percentile(lat, 99),
           max(lat or [0]), args.goal_ms,
           'met' if lat and common.percentile(lat, 99) < args.goal_ms else 'NOT met'))
    print('server RSS %.1f MiB -> %.1f MiB' % (rss0 / 1024, rss1 / 1024))
    if failures:
        print('failures: %s' % sorted(set(failures))[:5])
    if args.check:
        if failures or not lat:
            common.fail('/health failed %d times' % len(failures))
        if max(lat) > args.max_ms:
            common.fail('/health took %.0f ms' % max(lat))
        if held_avg < args.connections / 2:
            common.fail('only %.0f connections were held open' % held_avg)
        print('PASS')


if __name__ == '__main__':
    main()
