import type { v1 } from '@google-cloud/aiplatform';

/**
 * How the real Google SDKs are pointed at the fakes (measured-facts §4c, §5). Kept here so provider tests build their
 * clients exactly the way the fake tests do.
 */

type VertexClientOptions = NonNullable<ConstructorParameters<typeof v1.EndpointServiceClient>[0]>;

/**
 * A minimal auth client for gax 5's REST fallback: gax only checks for `getRequestHeaders` and then sends every
 * request through `auth.fetch(url, init)`. This one adds a fixed bearer token and uses Node's fetch, so no
 * google-auth-library import (and no ADC or metadata-server lookup) is needed. HTTP errors then surface as
 * GoogleError with the gRPC `code` (gax parses the JSON error body itself).
 */
export function fakeAuthClient(token = 'fake-token'): VertexClientOptions['authClient'] {
  const client = {
    getRequestHeaders: async (): Promise<Headers> => new Headers(),
    fetch: (url: string | URL, init: RequestInit = {}): Promise<Response> => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(url, { method: init.method ?? 'GET', headers, body: init.body ?? null, signal: init.signal ?? null });
    },
  };
  // Duck-typed: gax never touches the rest of the AuthClient surface in fallback mode.
  return client as unknown as VertexClientOptions['authClient'];
}

/** Options for `new v1.ModelServiceClient(…)`, `EndpointServiceClient`, `PredictionServiceClient` against a FakeVertex. */
export function vertexClientOptions(fake: { port: number }, token = 'fake-token'): VertexClientOptions {
  return {
    apiEndpoint: '127.0.0.1',
    // gax takes the port from `port`, never from apiEndpoint, and defaults to 443.
    port: fake.port,
    protocol: 'http',
    fallback: true,
    authClient: fakeAuthClient(token),
  };
}

/** Options for `new Storage(…)` against a FakeGcs: a custom endpoint makes the SDK send no auth at all. */
export function gcsClientOptions(fake: { url: string }, projectId = 'test-project'): { apiEndpoint: string; projectId: string } {
  return { apiEndpoint: fake.url, projectId };
}
