import type { BrokerError } from '../../../errors/broker-error.js';
import type { ConfigCache } from '../../live-config/config-cache.js';
import { withParams } from '../return-url.js';
import { assertReturnToRegistered } from './assert-return-to-registered.js';

/** The app's opaque state as the login query may carry it (loginQuerySchema's rule). */
// eslint-disable-next-line no-control-regex -- the control characters are what it refuses
const STATE = /^[^\x00-\x1f\x7f]{0,512}$/;

/**
 * A learner's error page of `GET /api/sso/login` may offer a way back to the app — the app's
 * registered return URL with `error`, `error_description` and the app's `state`, as after a
 * failed sign-in at the IdP — so a learner whose organisation has no single sign-on here is not
 * stranded. Guarantees: only a URL that passes the same exact-match check as the login
 * (assert-return-to-registered.ts), run here again on the app and `return_to` of the request,
 * so no error, however early, can turn the page into an open redirect; a link, not a redirect
 * (the contract answers these failures with a page).
 */
export async function wayBackToApp(
  deps: { apps: Pick<ConfigCache['apps'], 'findById'> },
  query: unknown,
  error: BrokerError,
): Promise<{ url: string; app: string } | undefined> {
  const q = (query ?? {}) as Record<string, unknown>;
  if (typeof q.app !== 'string' || typeof q.return_to !== 'string') return undefined;
  const app = await deps.apps.findById(q.app);
  if (!app) return undefined;
  try {
    assertReturnToRegistered(app.returnUrls, q.return_to);
  } catch {
    return undefined;
  }
  const state = typeof q.state === 'string' && STATE.test(q.state) ? q.state : undefined;
  const url = withParams(q.return_to, { error: error.code, error_description: error.description, state });
  return { url, app: app.name };
}
