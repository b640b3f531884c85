import type { ConfigCache } from '../../live-config/config-cache.js';
import type { Tenant } from '../../tenants/tenant.repo.js';
import { returnToHash } from '../login-transaction.js';
import { assertAppAllowed } from './assert-app-allowed.js';
import { assertReturnToRegistered } from './assert-return-to-registered.js';
import { findApp } from './find-app.js';
import { pickConnection } from './pick-connection.js';
import { redirectToIdp, type BrowserContext, type RedirectToIdpDeps, type StartResult } from './redirect-to-idp.js';
import { resolveTenant, type ResolveTenantDeps } from './resolve-tenant.js';
import type { StepUp } from './step-up.js';

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
  /** `acr_values`, `max_age`, `prompt` (contract v4). */
  stepUp?: StepUp | undefined;
}

/** The steps of a login's start, as the login audit names the one a failure happened at. */
export type StartStepId =
  'request' | 'initiation' | 'app' | 'return_to' | 'tenant' | 'app_allowed' | 'connection' | 'idp';

/** How far a start got: its step, and what it knew by then (the login audit records it on failure). */
export interface StartProgress {
  step: StartStepId;
  appId?: string;
  tenant?: Tenant;
  connectionId?: string;
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
  progress: StartProgress = { step: 'app' },
): Promise<StartResult> {
  progress.step = 'app';
  const app = await findApp(deps, request.appId);
  Object.assign(progress, { step: 'return_to', appId: app.id });
  assertReturnToRegistered(app.returnUrls, request.returnTo);
  progress.step = 'tenant';
  const { tenant, connection: selected } = await resolveTenant(deps, {
    connection: request.connection,
    tenant: request.tenant,
    host: browser.host,
    loginHint: request.loginHint,
  });
  Object.assign(progress, { step: 'app_allowed', tenant, connectionId: selected?.id });
  assertAppAllowed(app, tenant);
  progress.step = 'connection';
  const connection = await pickConnection(deps, tenant, selected);
  Object.assign(progress, { step: 'idp', connectionId: connection.id });
  return redirectToIdp(deps, {
    tenant,
    connection,
    purpose: { kind: 'app', appId: app.id, returnToHash: returnToHash(request.returnTo), appState: request.appState },
    returnTo: request.returnTo,
    loginHint: request.loginHint,
    stepUp: request.stepUp,
    browser,
  });
}
