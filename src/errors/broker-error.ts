/**
 * One error type for the whole broker. Each code has one row in ERROR_TABLE saying its HTTP
 * status, whether its description may be shown to the caller, and whether the browser may be
 * sent back to the app with it (only once the app's return URL has been verified).
 */
export const ERROR_TABLE = {
  // Browser flow, before the return URL is trusted: a page, never a redirect.
  invalid_request: {
    status: 400,
    allowRedirect: false,
    message: 'The request is missing a parameter or has an invalid one.',
  },
  unknown_app: {
    status: 400,
    allowRedirect: false,
    message: 'This application is not registered with the sign-in service.',
  },
  invalid_return_to: {
    status: 400,
    allowRedirect: false,
    message: 'The return address is not registered for this application.',
  },
  unknown_tenant: { status: 400, allowRedirect: false, message: 'No organisation matches this sign-in link.' },
  no_connection: {
    status: 400,
    allowRedirect: false,
    message: 'Single sign-on is not set up for this organisation yet.',
  },
  tenant_not_allowed: {
    status: 400,
    allowRedirect: false,
    message: 'This application is not enabled for your organisation.',
  },
  invalid_state: {
    status: 400,
    allowRedirect: false,
    message: 'This sign-in could not be matched to one started in this browser.',
  },
  unknown_session: { status: 400, allowRedirect: false, message: 'This session is unknown or already signed out.' },
  login_expired: { status: 400, allowRedirect: false, message: 'This sign-in took too long or was already completed.' },
  callback_mismatch: {
    status: 400,
    allowRedirect: false,
    message: 'The identity provider sent this sign-in back to another address than the one it was started for.',
  },
  // Browser flow, after the transaction is known: redirect to the app with ?error=.
  access_denied: { status: 400, allowRedirect: true, message: 'The identity provider did not allow the sign-in.' },
  idp_error: { status: 502, allowRedirect: true, message: 'The identity provider returned an error.' },
  token_exchange_failed: {
    status: 502,
    allowRedirect: true,
    message: 'The sign-in could not be completed with the identity provider.',
  },
  invalid_id_token: {
    status: 502,
    allowRedirect: true,
    message: 'The identity provider sent an identity that failed verification.',
  },
  missing_claims: {
    status: 502,
    allowRedirect: true,
    message: 'The identity provider did not send a user id and an email or username.',
  },
  domain_not_allowed: {
    status: 403,
    allowRedirect: true,
    message: 'This account does not belong to the organisation.',
  },
  acr_not_satisfied: {
    status: 403,
    allowRedirect: true,
    message: 'The identity provider did not sign you in as strongly as this application asked.',
  },
  stale_authentication: {
    status: 403,
    allowRedirect: true,
    message: 'The identity provider did not sign you in recently enough for this application.',
  },
  // Apps and operators.
  invalid_client: { status: 401, allowRedirect: false, message: 'Missing or wrong app credentials.' },
  invalid_ticket: {
    status: 400,
    allowRedirect: false,
    message: 'The ticket is unknown, expired, already redeemed or not for this app.',
  },
  unauthorized: { status: 401, allowRedirect: false, message: 'Missing or wrong bearer token.' },
  admin_disabled: { status: 503, allowRedirect: false, message: 'The admin API is disabled: ADMIN_TOKEN is not set.' },
  not_found: { status: 404, allowRedirect: false, message: 'Not found.' },
  conflict: { status: 409, allowRedirect: false, message: 'It already exists.' },
  not_verified: {
    status: 409,
    allowRedirect: false,
    message: 'The domain’s TXT record was not found with the expected value.',
  },
  not_tested: {
    status: 409,
    allowRedirect: false,
    message: 'This version has no successful test login yet; run one before activating it.',
  },
  console_tenant: {
    status: 409,
    allowRedirect: false,
    message:
      'This organisation signs operators in to the broker’s console: its connections are changed by the broker’s ' +
      'operators only, never through a setup link.',
  },
  invalid_setup_link: {
    status: 404,
    allowRedirect: false,
    message: 'This setup link is unknown, expired or revoked. Ask the operator for a new one.',
  },
  csrf_failed: {
    status: 403,
    allowRedirect: false,
    message: 'The form could not be verified. Reload the page and try again.',
  },
  payload_too_large: { status: 413, allowRedirect: false, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, allowRedirect: false, message: 'Send JSON (application/json).' },
  rate_limited: { status: 429, allowRedirect: false, message: 'Too many requests; try again shortly.' },
  not_ready: { status: 503, allowRedirect: false, message: 'The service is not ready.' },
  temporarily_unavailable: {
    status: 503,
    allowRedirect: false,
    message: 'The service is briefly unavailable; try again in a moment.',
  },
  internal_error: { status: 500, allowRedirect: false, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; allowRedirect: boolean; message: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export class BrokerError extends Error {
  override name = 'BrokerError';
  readonly code: ErrorCode;
  /** Safe to show to the caller; defaults to the table's message. Never upstream text. */
  readonly description: string;
  /** Extra structured detail for the caller (validation issues); must hold no secrets. */
  readonly details: unknown;
  /** The organisation's display name, when known where the error arose (learner pages show it). */
  organisation: string | undefined;
  /** Which case of its code a learner's page explains, when it has its own words (pages.ts). */
  learnerCase: string | undefined;

  constructor(
    code: ErrorCode,
    options: { description?: string; details?: unknown; cause?: unknown; logMessage?: string } = {},
  ) {
    super(options.logMessage ?? options.description ?? ERROR_TABLE[code].message, { cause: options.cause });
    this.code = code;
    this.description = options.description ?? ERROR_TABLE[code].message;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }

  get allowRedirect(): boolean {
    return ERROR_TABLE[this.code].allowRedirect;
  }
}

export function isBrokerError(error: unknown): error is BrokerError {
  return error instanceof BrokerError;
}
