import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway self-signed certificate for 127.0.0.1 and localhost. */
export interface TestCert {
  /** PEM file of the certificate; it is its own CA (CA:TRUE), so it can go in NODE_EXTRA_CA_CERTS or tlsOptions.ca. */
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

let cached: TestCert | undefined;

/**
 * Returns the process-wide test certificate, making it on first use.
 * One per process because child processes started with NODE_EXTRA_CA_CERTS=certPath
 * must keep trusting every fake started later in the same test file.
 */
export function getTestCert(): TestCert {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'modeldeploy-fake-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  // EC keys take milliseconds; RSA-2048 can take a second on this 2-core machine.
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  cached = { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  return cached;
}
