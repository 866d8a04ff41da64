"""Shared by the load scripts: a tiny generated model, `unigemma serve` on a free port, plain
HTTP requests, /metrics and the server's RSS."""
import argparse
import http.client
import os
import re
import subprocess
import sys
import time

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def tiny_model(binary, build_dir):
    """Writes the tiny random-weight model once (in BUILD/test-artifacts/load) and returns its
    path prefix."""
    d = os.path.join(build_dir, 'test-artifacts', 'load')
    os.makedirs(d, exist_ok=True)
    prefix = os.path.join(d, 'model')
    if not os.path.exists(prefix + '.gguf'):
        subprocess.run([binary, 'make-test-model', '--size', 'tiny', '--format', 'gguf', '--type',
                        'q8_0', '--no-assistant', '--out', prefix], cwd=SOURCE_DIR, check=True)
    return prefix


class Server:
    """`unigemma serve` on the tiny model; .port once /health answers 200."""

    def __init__(self, binary, build_dir, args=(), parallel=2, ctx=1024):
        prefix = tiny_model(binary, build_dir)
        self.log_path = os.path.join(build_dir, 'test-artifacts', 'load', 'server-%d.log' % os.getpid())
        self.log = open(self.log_path, 'w+')
        cmd = [binary, 'serve', '-m', prefix + '.gguf', '--mmproj', prefix + '-mmproj.gguf',
               '--port', '0', '--parallel', str(parallel), '-c', str(ctx), '-t', '2', *args]
        self.proc = subprocess.Popen(cmd, cwd=SOURCE_DIR, stdout=self.log, stderr=self.log)
        self.port = None
        deadline = time.time() + 120
        while time.time() < deadline and self.proc.poll() is None:
            m = re.search(r'listening on http://[\d.]+:(\d+)', self.read_log())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.05)
        if self.port is None:
            raise RuntimeError('server did not start:\n' + self.read_log())
        while time.time() < deadline:
            try:
                if request(self.port, 'GET', '/health', timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError('model did not load:\n' + self.read_log())

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def rss_kib(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(port, method, path, body=None, timeout=60):
    """One request on its own connection: (status, body text)."""
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        headers = {'Content-Type': 'application/json'} if body is not None else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode('utf-8', 'replace')
    finally:
        c.close()


def metrics(port):
    """/metrics as {name or name{labels}: value}."""
    out = {}
    for line in request(port, 'GET', '/metrics')[1].splitlines():
        if line and not line.startswith('#'):
            key, value = line.rsplit(' ', 1)
            out[key] = float(value)
    return out


def percentile(values, p):
    if not values:
        return float('nan')
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def arg_parser(doc):
    """A parser with the options every script takes: --binary and --build-dir."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--binary', default=os.path.join(SOURCE_DIR, 'build', 'unigemma'))
    p.add_argument('--build-dir', default=os.path.join(SOURCE_DIR, 'build'),
                   help='where the tiny model is written (BUILD/test-artifacts/load)')
    return p


def fail(message):
    print('FAIL: ' + message)
    sys.exit(1)
