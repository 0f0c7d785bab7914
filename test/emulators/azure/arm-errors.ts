/** ARM `ErrorResponse` body: {"error": {"code", "message", "details"?, "additionalInfo"?}}. */
export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorDetail[];
}

export interface ArmErrorBody {
  error: {
    code: string;
    message: string;
    target?: string;
    details?: ArmErrorDetail[];
    additionalInfo?: unknown[];
  };
}

/**
 * An error the fake answers with. `fromProvider` errors (Microsoft.MachineLearningServices itself) carry
 * `details`/`additionalInfo` arrays as the MFE does; ARM front-door errors (auth, api-version, throttling,
 * missing subscription/resource group) carry only code and message.
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: { details?: ArmErrorDetail[]; headers?: Record<string, string>; fromProvider?: boolean } = {},
  ) {
    super(message);
  }

  toBody(): ArmErrorBody {
    if (this.options.fromProvider === false) return { error: { code: this.code, message: this.message } };
    return { error: { code: this.code, message: this.message, details: this.options.details ?? [], additionalInfo: [] } };
  }
}

/** 400 with the MFE's generic user-error code (validation, bad references). */
export function userError(message: string, status = 400): ArmError {
  return new ArmError(status, 'UserError', message);
}

/** 404 as the MFE answers for a missing child resource (captured shape: code NotFound + this message). */
export function notFound(what: string): ArmError {
  return new ArmError(404, 'NotFound', 'The specified resource was not found.', {
    details: [{ code: 'ResourceNotFound', message: `${what} was not found.` }],
  });
}

/** 409 while another operation holds the endpoint or deployment. */
export function conflict(message: string): ArmError {
  return new ArmError(409, 'UserError', message);
}

/** ARM front door errors (no details array). */
export function armFrontDoor(status: number, code: string, message: string, headers?: Record<string, string>): ArmError {
  return new ArmError(status, code, message, { fromProvider: false, ...(headers ? { headers } : {}) });
}
