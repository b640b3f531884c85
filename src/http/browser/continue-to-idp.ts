import type { FastifyReply } from 'fastify';
import type { StartResult } from '../../domain/login/login-start.service.js';
import { setLoginCookies } from './login-cookies.js';
import { renderContinuePage, sendPage } from './pages.js';

/**
 * A login that a form starts (the setup link's and the console's test sign-in, the console's
 * sign-in through SSO) goes on to the IdP through a page rather than a redirect: the form's
 * page allows `form-action 'self'` only, and browsers apply form-action to every redirect of
 * the submission, so a 303 to the IdP would be blocked. The page's refresh (and its link) is a
 * navigation of its own, which form-action does not govern. The transaction cookie is set on
 * this answer, in the browser that posted the form, so the login finishes only there.
 */
export function continueToIdp(reply: FastifyReply, started: StartResult, secureCookies: boolean) {
  setLoginCookies(reply, started.cookies, secureCookies);
  return sendPage(reply, 200, renderContinuePage(started.location, 'Continuing to your identity provider'));
}
