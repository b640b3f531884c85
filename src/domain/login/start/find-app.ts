import { BrokerError } from '../../../errors/broker-error.js';
import type { App } from '../../apps/app.repo.js';
import type { ConfigCache } from '../../live-config/config-cache.js';

/**
 * Guarantees: the login names a registered relying app. Until it does, every error is a page:
 * there is no return URL to trust.
 */
export async function findApp(deps: { apps: Pick<ConfigCache['apps'], 'findById'> }, appId: string): Promise<App> {
  const app = await deps.apps.findById(appId);
  if (!app) throw new BrokerError('unknown_app');
  return app;
}
