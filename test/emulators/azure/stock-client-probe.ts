/*
 * Child-process probe: proves the stock @azure/arm-machinelearning client and Node's global fetch reach the fake
 * with nothing but `endpoint` and NODE_EXTRA_CA_CERTS (which Node reads only at start-up, hence a child process).
 * Input: env PROBE_ARM, PROBE_SUB, PROBE_RG, PROBE_WS, PROBE_EP. Output: one JSON line.
 */
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/identity';

const need = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`missing ${k}`);
  return v;
};

const credential: TokenCredential = {
  getToken: async () => ({ token: 'probe-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const ml = new AzureMachineLearningWorkspaces(credential, need('PROBE_SUB'), { endpoint: need('PROBE_ARM') });
const ep = await ml.onlineEndpoints.get(need('PROBE_RG'), need('PROBE_WS'), need('PROBE_EP'));
const keys = await ml.onlineEndpoints.listKeys(need('PROBE_RG'), need('PROBE_WS'), need('PROBE_EP'));
const res = await fetch(ep.properties.scoringUri ?? '', {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.primaryKey ?? ''}` },
  body: JSON.stringify({ data: [[1, 2]] }),
});
process.stdout.write(
  `${JSON.stringify({
    provisioningState: ep.properties.provisioningState,
    status: res.status,
    deployment: res.headers.get('azureml-model-deployment'),
    body: (await res.json()) as unknown,
  })}\n`,
);
