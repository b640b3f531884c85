import type { ConnectionVersion } from '../connections/connection-version.repo.js';
import type { Tenant } from '../tenants/tenant.repo.js';
import type { SetupLink } from './setup-link.repo.js';

/** What a setup page shows: the link's tenant and connection, and its versions that matter. */
export interface SetupContext {
  link: SetupLink;
  tenant: Tenant;
  connectionId: string;
  active: ConnectionVersion | undefined;
  draft: ConnectionVersion | undefined;
  /** What the holder chose in step 1, on this link or, before that, on the connection's last link. */
  choice: SetupChoice;
}

/** Step 1 of a setup page: the IdP product (a key of the page's list) and the client authentication. */
export interface SetupChoice {
  idpProduct?: string | undefined;
  authMethod?: string | undefined;
}
