#!/usr/bin/env node
// A serving process with no dependencies that honours the SageMaker / Vertex container contract, for
// `framework: custom` on the local provider. Copy it as a starting point for your own model server.
//
//   SM_MODEL_DIR       where the model is (default ./model); this one reads weights.json from it
//   AIP_HTTP_PORT      the port to listen on, on 127.0.0.1 (required)
//   AIP_HEALTH_ROUTE   answered with 200 when ready (default /ping)
//   AIP_PREDICT_ROUTE  {"instances": [[...], ...]} → {"predictions": [...]} (default /invocations)
//
// The model: a linear regression, prediction = instance · weights + bias.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

function fail(message) {
  process.stderr.write(`server.mjs: ${message}\n`);
  process.exit(1);
}

const port = Number(process.env.AIP_HTTP_PORT);
if (!process.env.AIP_HTTP_PORT || !Number.isInteger(port) || port < 0 || port > 65535) {
  fail(`AIP_HTTP_PORT must be a port number; got "${process.env.AIP_HTTP_PORT ?? ''}"`);
}
const healthRoute = process.env.AIP_HEALTH_ROUTE || '/ping';
const predictRoute = process.env.AIP_PREDICT_ROUTE || '/invocations';
const modelDir = process.env.SM_MODEL_DIR || 'model';

// Load before listening, so that an open port means ready.
let model;
try {
  model = JSON.parse(readFileSync(join(modelDir, 'weights.json'), 'utf8'));
} catch (err) {
  fail(`cannot load ${join(modelDir, 'weights.json')}: ${err.message}`);
}
const { weights, bias } = model;
if (!Array.isArray(weights) || !weights.every(Number.isFinite) || !Number.isFinite(bias)) {
  fail('weights.json needs "weights" (a list of numbers) and "bias" (a number)');
}

class BadRequest extends Error {}

function predict(body) {
  const instances = body?.instances;
  if (!Array.isArray(instances) || instances.length === 0) {
    throw new BadRequest('send {"instances": [[...], ...]} with at least one row');
  }
  return instances.map((row, i) => {
    if (!Array.isArray(row) || row.length !== weights.length || !row.every(Number.isFinite)) {
      throw new BadRequest(`instances[${i}] must be a list of ${weights.length} numbers`);
    }
    return row.reduce((sum, x, j) => sum + x * weights[j], bias);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new Error('too large')) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  const started = Date.now();
  const path = (req.url ?? '/').split('?')[0];
  res.on('finish', () => console.log(`${req.method} ${path} ${res.statusCode} ${Date.now() - started}ms`));

  if (path === healthRoute || path === '/ping') {
    return req.method === 'GET' ? send(res, 200, { status: 'healthy' }) : send(res, 405, { error: 'use GET' });
  }
  if (path !== predictRoute && path !== '/invocations') return send(res, 404, { error: `no route ${path}` });
  if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\b/i.test(type)) {
    return send(res, 415, { error: 'send application/json' });
  }
  let body;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch (err) {
    return send(res, err.message === 'too large' ? 413 : 400, { error: `bad request body: ${err.message}` });
  }
  try {
    send(res, 200, { predictions: predict(body) });
  } catch (err) {
    send(res, err instanceof BadRequest ? 400 : 500, { error: err.message });
  }
});

server.on('error', (err) => fail(err.message));
server.listen(port, '127.0.0.1', () => {
  console.log(`server.mjs: ${weights.length} weights from ${modelDir}; listening on http://127.0.0.1:${server.address().port}`);
});

// Graceful stop: no new connections, in-flight requests finish, then exit 0.
function stop(signal) {
  console.log(`server.mjs: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
