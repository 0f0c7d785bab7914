/** google.rpc.Code values: what an LRO `error.code` carries and what the gRPC transport reports. */
export const RPC_CODES = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type RpcStatus = keyof typeof RPC_CODES;

/** The standard Google API mapping of canonical codes to HTTP statuses. */
const HTTP_STATUS: Record<RpcStatus, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

export function statusOfCode(code: number): RpcStatus {
  const hit = (Object.entries(RPC_CODES) as [RpcStatus, number][]).find(([, n]) => n === code);
  return hit ? hit[0] : 'UNKNOWN';
}

/**
 * An error as Google JSON APIs send it: HTTP status from the canonical code, body
 * `{"error":{"code":<http>,"message","status":"<CANONICAL>","details":[…]}}`.
 */
export class VertexError extends Error {
  constructor(
    readonly status: RpcStatus,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }

  body(): { error: { code: number; message: string; status: RpcStatus; details?: unknown[] } } {
    return {
      error: {
        code: this.httpStatus,
        message: this.message,
        status: this.status,
        ...(this.details.length > 0 ? { details: this.details } : {}),
      },
    };
  }

  /** The google.rpc.Status an LRO ends with. */
  rpcStatus(): { code: number; message: string; details?: unknown[] } {
    return { code: RPC_CODES[this.status], message: this.message, ...(this.details.length > 0 ? { details: this.details } : {}) };
  }
}

export const invalidArgument = (message: string, field?: string): VertexError =>
  new VertexError(
    'INVALID_ARGUMENT',
    message,
    field === undefined
      ? []
      : [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description: message }] }],
  );

export const failedPrecondition = (message: string): VertexError => new VertexError('FAILED_PRECONDITION', message);

export const notFound = (message: string): VertexError => new VertexError('NOT_FOUND', message);
