import type { ConfigCache } from '../../live-config/config-cache.js';
import { returnToHash } from '../login-transaction.js';
import { assertAppAllowed } from './assert-app-allowed.js';
import { assertReturnToRegistered } from './assert-return-to-registered.js';
import { findApp } from './find-app.js';
import { pickConnection } from './pick-connection.js';
import { redirectToIdp, type BrowserContext, type RedirectToIdpDeps, type StartResult } from './redirect-to-idp.js';
import { resolveTenant, type ResolveTenantDeps } from './resolve-tenant.js';

export type StartDeps = RedirectToIdpDeps &
  ResolveTenantDeps & {
    apps: Pick<ConfigCache['apps'], 'findById'>;
    connections: Pick<ConfigCache['connections'], 'findById' | 'findDefaultEnabled'>;
  };

export interface AppLoginRequest {
  appId: string;
  returnTo: string;
  connection?: string | undefined;
  tenant?: string | undefined;
  loginHint?: string | undefined;
  /** The app's opaque state, echoed back unchanged. */
  appState?: string | undefined;
}

/**
 * `GET /api/sso/login`, in the contract's order. Until the app and its return URL are
 * verified an error must be a page, never a redirect; configuration comes from the cache, so
 * the steady state reads no database.
 */
export async function startAppLogin(
  deps: StartDeps,
  request: AppLoginRequest,
  browser: BrowserContext,
): Promise<StartResult> {
  const app = await findApp(deps, request.appId);
  assertReturnToRegistered(app.returnUrls, request.returnTo);
  const { tenant, connection: selected } = await resolveTenant(deps, {
    connection: request.connection,
    tenant: request.tenant,
    host: browser.host,
    loginHint: request.loginHint,
  });
  assertAppAllowed(app, tenant);
  const connection = await pickConnection(deps, tenant, selected);
  return redirectToIdp(deps, {
    tenant,
    connection,
    purpose: { kind: 'app', appId: app.id, returnToHash: returnToHash(request.returnTo), appState: request.appState },
    returnTo: request.returnTo,
    loginHint: request.loginHint,
    browser,
  });
}
