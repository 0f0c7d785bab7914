/*
 * Standalone fake Azure ML (+ Azurite blob), for manual runs and subprocess e2e tests:
 *   node --import tsx test/emulators/azure/main.ts [--port 8443] [--no-azurite]
 *       [--workspace rg1/ws1/eastus]...
 * Prints one JSON line on stdout with the URLs, the CA path and the environment a client needs, then runs until
 * SIGINT/SIGTERM. The HTTP control API lives under /__fake/ (see README.md): operations finish on the
 * first look after their request was answered, or stay in progress while held (POST /__fake/hold).
 */
import { parseArgs } from 'node:util';

import { startAzurite } from './azurite.js';
import type { AzuriteBlob } from './azurite.js';
import { startFakeAzureMl } from './fake-arm.js';
import type { SeedWorkspace } from './fake-arm.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'no-azurite': { type: 'boolean', default: false },
    workspace: { type: 'string', multiple: true },
  },
});

const workspaces: SeedWorkspace[] = (values.workspace ?? ['rg1/ws1/eastus']).map((spec) => {
  const [resourceGroup, workspace, location] = spec.split('/');
  if (!resourceGroup || !workspace || !location) throw new Error(`--workspace wants rg/ws/location, got '${spec}'`);
  return { resourceGroup, workspace, location };
});

let azurite: AzuriteBlob | undefined;
if (!values['no-azurite']) azurite = await startAzurite();
const fake = await startFakeAzureMl({
  workspaces,
  ...(values.port ? { port: Number(values.port) } : {}),
  ...(azurite ? { azurite: { blobEndpoint: azurite.blobEndpoint, accountName: azurite.accountName, accountKey: azurite.accountKey } } : {}),
});

process.stdout.write(
  `${JSON.stringify({
    armEndpoint: fake.url,
    subscriptionId: fake.subscriptionId,
    tenantId: fake.tenantId,
    caCertPath: fake.caCertPath,
    workspaces,
    blobEndpoint: azurite?.blobEndpoint ?? null,
    blobConnectionString: azurite?.connectionString ?? null,
    env: { NODE_EXTRA_CA_CERTS: fake.caCertPath, MODELDEPLOY_AZURE_ARM_ENDPOINT: fake.url },
  })}\n`,
);

let stopping = false;
const shutdown = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await fake.stop();
  await azurite?.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
