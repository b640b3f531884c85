/**
 * What a learner's error page says, per error code (and per case of a code that has words of its
 * own, `code:case`): what happened, what to try, what to tell whom.
 */

export interface Guidance {
  /** What happened, as a heading. `{org}` is the organisation's name when known. */
  title: string;
  /** What the learner can try. */
  tryThis: string;
  /** What to pass on, and to whom (the seeds' troubleshooting tables, in plain words). */
  tellIt: string;
  /**
   * The title already says what the code's usual description says: the page shows a description
   * only when it is another one (a heading repeated as its first line reads as a glitch).
   */
  titleSaysIt?: true;
}

const GENERIC: Guidance = {
  title: 'We could not sign you in',
  tryThis: 'Go back to the application and try again.',
  tellIt: 'If it keeps happening, tell your IT team the reference below.',
};

/** Per error code: what happened, what to try, what to tell whom. */
const GUIDANCE: Record<string, Guidance> = {
  unknown_tenant: {
    title: 'We do not recognise this organisation',
    tryThis:
      'Check that you used your organisation’s own sign-in link, or sign in with your work email address from the ' +
      'application.',
    tellIt:
      'If the link is right, tell your IT team: single sign-on is not configured for this organisation ' +
      '(configuration not found).',
    titleSaysIt: true,
  },
  // unknown_tenant after the learner typed an email (login_hint): they named no organisation.
  'unknown_tenant:email_domain': {
    title: 'Single sign-on is not available for this email address',
    tryThis:
      'Check the email address: use the one your school or employer gave you. If it is right, your organisation ' +
      'does not sign in this way here: go back to the application and sign in another way.',
    tellIt:
      'If your organisation should have single sign-on, tell your IT team: the sign-in service has no organisation ' +
      'with this email domain (configuration not found).',
  },
  no_connection: {
    title: 'Single sign-on is not set up for {org} yet',
    tryThis: 'You cannot sign in this way until it is.',
    tellIt: 'Tell your IT team: the organisation has no enabled identity-provider connection.',
    titleSaysIt: true,
  },
  tenant_not_allowed: {
    title: 'This application is not enabled for {org}',
    tryThis: 'Check that you chose the right organisation.',
    tellIt: 'Tell your IT team: the application is not enabled for this organisation.',
    titleSaysIt: true,
  },
  invalid_return_to: {
    title: 'This sign-in link is not valid',
    tryThis: 'Go back to the application and start again from its sign-in button.',
    tellIt:
      'Tell the application’s support team: it sent a return address that is not registered with the sign-in ' +
      'service (redirect URI mismatch).',
  },
  unknown_app: {
    title: 'This sign-in link is not valid',
    tryThis: 'Go back to the application and start again from its sign-in button.',
    tellIt: 'Tell the application’s support team: the application is not registered with the sign-in service.',
  },
  invalid_request: {
    title: 'This sign-in link is incomplete',
    tryThis: 'Go back to the application and start again from its sign-in button.',
    tellIt: 'If it keeps happening, tell the application’s support team the reference below.',
  },
  invalid_state: {
    title: 'This sign-in could not be matched to your browser',
    tryThis: 'Start again from the application, in the same browser. Make sure cookies are allowed for this site.',
    tellIt: 'If it keeps happening, tell your IT team the reference below.',
  },
  callback_mismatch: {
    title: 'This sign-in came back to the wrong address',
    tryThis:
      'Start again from the application. If you were sent here by a link someone gave you, do not use that link again.',
    tellIt:
      'Tell your IT team: the identity provider must send sign-ins to this connection’s own redirect URI, shown on ' +
      'the broker’s setup page for the connection (redirect URI mismatch).',
  },
  temporarily_unavailable: {
    title: 'The sign-in service is briefly unavailable',
    tryThis: 'Try again in a moment: reload this page, or start again from the application.',
    tellIt: 'Nothing to report unless it lasts more than a few minutes.',
  },
  invalid_setup_link: {
    title: 'This setup link does not work',
    tryThis: 'Check that you opened the whole link, as the operator sent it.',
    tellIt: 'Ask the operator of the sign-in service for a new setup link: links expire and can be revoked.',
  },
  console_tenant: {
    title: 'This setup link cannot change this organisation’s sign-in',
    tryThis: 'Nothing on this page will work: it saves and activates nothing.',
    tellIt: 'Send your IdP settings to the operator of the sign-in service, who enters them directly.',
  },
  csrf_failed: {
    title: 'This form could not be verified',
    tryThis: 'Reload the setup page and submit the form again.',
    tellIt: 'Nothing to report unless it keeps happening.',
  },
  login_expired: {
    title: 'This sign-in took too long or was already completed',
    tryThis: 'Start again from the application.',
    tellIt: 'Nothing to report unless it keeps happening.',
    titleSaysIt: true,
  },
  unknown_session: {
    title: 'You are already signed out',
    tryThis: 'Go back to the application.',
    tellIt: 'Nothing to report.',
  },
  access_denied: {
    title: 'The sign-in was cancelled',
    tryThis: 'Try again, and approve the sign-in at your organisation’s page.',
    tellIt: 'If your organisation refused it, ask your IT team for access to this application.',
  },
  idp_error: {
    title: '{org}’s sign-in service had a problem',
    tryThis: 'Try again in a few minutes.',
    tellIt:
      'If it keeps happening, tell your IT team: the identity provider returned an error or could not be reached.',
  },
  token_exchange_failed: {
    title: 'The sign-in could not be completed with {org}’s sign-in service',
    tryThis: 'Try again in a few minutes.',
    tellIt:
      'Tell your IT team: the token exchange failed — check the connection’s client ID and secret or key, and that ' +
      'they have not expired.',
  },
  invalid_id_token: {
    title: 'Your identity could not be verified',
    tryThis: 'Try again. If it keeps happening, your organisation’s setup needs a change.',
    tellIt:
      'Tell your IT team: the identity provider’s token failed verification (token verification failure: signature, ' +
      'issuer, audience or time).',
  },
  missing_claims: {
    title: 'Your account is missing details we need',
    tryThis: 'You cannot sign in this way until your account has an email address or username.',
    tellIt: 'Tell your IT team: the identity provider sent no user id and no email or username.',
  },
  domain_not_allowed: {
    titleSaysIt: true,
    title: 'This account does not belong to {org}',
    tryThis: 'Sign in with your {org} account, or choose your own organisation in the application.',
    tellIt:
      'If this is your organisation’s account, tell your IT team: the identity provider must send a verified email ' +
      'address of one of the organisation’s registered domains.',
  },
  rate_limited: {
    title: 'Too many attempts',
    tryThis: 'Wait a minute, then try again.',
    tellIt: 'Nothing to report unless it keeps happening.',
  },
};

/** The guidance for a code, or for one case of it when that case has its own. */
export function guidanceFor(code: string, learnerCase?: string): Guidance {
  return (learnerCase && GUIDANCE[`${code}:${learnerCase}`]) || GUIDANCE[code] || GENERIC;
}
