/**
 * Fault injection keyed to a fake's request log: `inject` runs before every other recorded request
 * (the 1st, 3rd, …), so each first try fails and its retry, the next request, gets through.
 * Returns the function that stops it.
 */
export function onEveryOtherRequest<T>(requests: T[], inject: () => void): () => void {
  const push = requests.push;
  let n = 0;
  requests.push = (...items: T[]) => {
    if (n++ % 2 === 0) inject();
    return push.apply(requests, items);
  };
  return () => {
    requests.push = push;
  };
}
