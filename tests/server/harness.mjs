// Starts `unigemma serve` on a tiny random-weight model for the node tests.
// Usage from a test: const srv = await startServer(process.argv[2], process.argv[3], 'name').
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const sourceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function startServer(binary, buildDir, name, extraArgs = []) {
  if (!binary || !buildDir) throw new Error('usage: node TEST.mjs UNIGEMMA_BINARY BUILD_DIR');
  const dir = path.join(buildDir, 'test-artifacts', 'server-' + name);
  fs.mkdirSync(dir, {recursive: true});
  const model = path.join(dir, 'model');
  if (!fs.existsSync(model + '.gguf')) {
    execFileSync(binary, ['make-test-model', '--size', 'tiny', '--format', 'gguf', '--type', 'q8_0',
                          '--no-assistant', '--out', model], {cwd: sourceDir, stdio: 'inherit'});
  }
  const proc = spawn(binary, ['serve', '-m', model + '.gguf', '--mmproj', model + '-mmproj.gguf',
                              '--port', '0', '--parallel', '2', '-c', '1024', '-t', '2', ...extraArgs],
                     {cwd: sourceDir, stdio: ['ignore', 'inherit', 'pipe']});
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + log)), 60000);
    proc.stderr.on('data', (d) => {
      log += d;
      process.stderr.write(d);
      const m = log.match(/listening on http:\/\/[\d.]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => reject(new Error('server exited with ' + code + ':\n' + log)));
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {  // /health is 503 until the model is loaded
    try { if ((await fetch(base + '/health')).status === 200) break; } catch (e) { /* not yet */ }
    if (i > 600) throw new Error('model did not load');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {base, dir, stop: () => new Promise((r) => { proc.on('exit', r); proc.kill('SIGTERM'); })};
}
