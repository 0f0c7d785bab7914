/**
 * "Every other request is throttled, each first try": the Azure SDKs send a retry with the same
 * `x-ms-client-request-id` as its first try, so a retry always passes and every other new
 * request is refused. Deterministic however many requests run at once (counting raw requests
 * would let parallel calls throttle one request's retries again and again).
 */
export class EveryOtherFirstTry {
  private firstTries = 0;
  private readonly seen = new Set<string>();

  /** Whether to throttle this request. A request without an id counts as a first try. */
  throttles(requestId: string | string[] | undefined): boolean {
    const id = Array.isArray(requestId) ? requestId[0] : requestId;
    if (id !== undefined) {
      if (this.seen.has(id)) return false;
      this.seen.add(id);
    }
    return this.firstTries++ % 2 === 0;
  }
}
