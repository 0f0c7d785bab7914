import { connect } from 'node:net';

import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';

import { startAzurite } from '../../emulators/azure/azurite.js';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Azurite launcher', () => {
  it('starts on a free port, serves @azure/storage-blob 12.32 over the dev connection string, and stops', async () => {
    const azurite = await startAzurite();
    try {
      expect(azurite.blobEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
      const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
      const container = service.getContainerClient('models');
      await container.create();
      const blob = container.getBlockBlobClient('churn/abc/model.onnx');
      await blob.uploadData(Buffer.from('onnx bytes'), { metadata: { upload_status: 'completed' } });

      const names = [];
      for await (const b of container.listBlobsFlat({ includeMetadata: true })) names.push([b.name, b.metadata?.['upload_status']]);
      expect(names).toEqual([['churn/abc/model.onnx', 'completed']]);
      expect((await blob.downloadToBuffer()).toString()).toBe('onnx bytes');

      await blob.delete();
      const left = [];
      for await (const b of container.listBlobsFlat()) left.push(b.name);
      expect(left).toEqual([]);
      await container.delete();
    } finally {
      await azurite.stop();
    }
    expect(await portOpen(azurite.port)).toBe(false);
    expect(alive(azurite.pid)).toBe(false);
  });
});
