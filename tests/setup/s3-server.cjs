/*
 * Starts an S3-compatible server on a free loopback port for the `s3` project, and
 * creates its test bucket: Python moto's `moto_server` when it is on the PATH, else the
 * npm package `s3rver` (`npm install --no-save s3rver`). Its address goes to the test
 * processes in TEST_S3_ENDPOINT, the bucket's name in TEST_S3_BUCKET.
 */
const { spawn, spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const BUCKET = 'newsroom-test';

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

function serverCommand(port, dir) {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0) {
    return ['moto_server', ['-H', '127.0.0.1', '-p', String(port)]];
  }
  let s3rver;
  try {
    s3rver = require.resolve('s3rver/bin/s3rver.js');
  } catch {
    throw new Error("The s3 test project needs an S3-compatible server: Python moto's moto_server on the PATH, or `npm install --no-save s3rver`.");
  }
  return [process.execPath, [s3rver, '--address', '127.0.0.1', '--port', String(port), '--directory', dir, '--silent', '--allow-mismatched-signatures']];
}

/**
 * Starts the server and creates `bucket` in it; gives its endpoint and a stop function.
 * Used by the s3 test project and by bench/storage.ts.
 */
async function startS3Server(bucket = BUCKET) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'newsroom-s3-'));
  const [command, args] = serverCommand(port, dir);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk) => {
    output = (output + chunk).slice(-4000);
  });
  const stop = async () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 100) {
    // Creating the bucket is also the check that the server answers (unsigned: test servers take that).
    const created = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' }).then((res) => res.ok || res.status === 409, () => false);
    if (created) break;
    if (child.exitCode !== null || waited > 30_000) {
      await stop();
      throw new Error(`The S3 test server (${command}) did not start on ${endpoint}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { endpoint, bucket, stop };
}

/** Jest's globalSetup of the s3 project: the server's address for the test processes. */
module.exports = async function globalSetup() {
  const server = await startS3Server();
  globalThis.__S3_SERVER__ = server;
  process.env.TEST_S3_ENDPOINT = server.endpoint;
  process.env.TEST_S3_BUCKET = server.bucket;
};

module.exports.startS3Server = startS3Server;
module.exports.freePort = freePort;

module.exports.stop = async function globalTeardown() {
  await globalThis.__S3_SERVER__?.stop();
};
