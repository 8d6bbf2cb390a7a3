// A local S3-compatible server for the upload tests: s3rver on loopback, a
// free port, a fresh data folder. Prints "PORT" on the first line of stdout
// once it listens; stops when stdin closes (the test exits) or on SIGTERM.
// usage: node --openssl-legacy-provider server.mjs DATA_DIR BUCKET...
// (s3rver enciphers ListObjectsV2 continuation tokens with DES, in OpenSSL
// 3's legacy provider.) HTTPS when S3RVER_TLS_KEY and S3RVER_TLS_CERT name
// PEM files (the TLS tests' private CA).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

const [dir, ...buckets] = process.argv.slice(2);
if (!dir || buckets.length === 0) {
  console.error('usage: node server.mjs DATA_DIR BUCKET...');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: buckets.map((name) => ({ name })),
  ...(process.env.S3RVER_TLS_KEY && process.env.S3RVER_TLS_CERT
    ? { key: readFileSync(process.env.S3RVER_TLS_KEY), cert: readFileSync(process.env.S3RVER_TLS_CERT) }
    : {}),
});
const { port } = await server.run();
process.stdout.write(`${port}\n`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
