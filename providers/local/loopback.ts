/**
 * The local endpoint answers only requests addressed to this machine by name or loopback address.
 * A web page whose name an attacker points at 127.0.0.1 (DNS rebinding) sends its own name as
 * Host; such a request is refused with 421 before it reaches a model.
 */
const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK.test(host.trim());
}

export const MISDIRECTED = { status: 421, body: { error: 'this endpoint answers requests for 127.0.0.1 or localhost only (Host header)' } };
