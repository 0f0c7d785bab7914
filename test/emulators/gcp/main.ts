/*
 * Standalone fake GCS + fake Vertex AI, for manual runs and subprocess e2e tests:
 *   node --import tsx test/emulators/gcp/main.ts [--gcs-port 4443] [--vertex-port 8089] [--project test-project]
 *       [--project-number 123456789012] [--location us-central1]... [--bucket models]...
 * Prints one JSON line on stdout with both URLs and the settings a client needs, then runs until SIGINT/SIGTERM.
 * Vertex's HTTP control API lives under /__fake/ (see README.md). Operations finish on their first look, or are held
 * (POST /__fake/hold) until POST /__fake/settle.
 */
import { parseArgs } from 'node:util';

import { startFakeGcs } from './fake-gcs.js';
import { startFakeVertex } from './fake-vertex.js';

const { values } = parseArgs({
  options: {
    'gcs-port': { type: 'string' },
    'vertex-port': { type: 'string' },
    project: { type: 'string', default: 'test-project' },
    'project-number': { type: 'string', default: '123456789012' },
    location: { type: 'string', multiple: true },
    bucket: { type: 'string', multiple: true },
  },
});

const gcs = await startFakeGcs({
  projectId: values.project,
  projectNumber: values['project-number'],
  buckets: values.bucket ?? [],
  ...(values['gcs-port'] ? { port: Number(values['gcs-port']) } : {}),
});
const vertex = await startFakeVertex({
  projectId: values.project,
  projectNumber: values['project-number'],
  locations: values.location ?? ['us-central1'],
  ...(values['vertex-port'] ? { port: Number(values['vertex-port']) } : {}),
});

process.stdout.write(
  `${JSON.stringify({
    gcsUrl: gcs.url,
    vertexUrl: vertex.url,
    vertexPort: vertex.port,
    projectId: vertex.projectId,
    projectNumber: vertex.projectNumber,
    locations: vertex.locations,
    buckets: [...gcs.buckets.keys()],
    controlUrl: `${vertex.url}/__fake/`,
  })}\n`,
);

let stopping = false;
const shutdown = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await vertex.stop();
  await gcs.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
