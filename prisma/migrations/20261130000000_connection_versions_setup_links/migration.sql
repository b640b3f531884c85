-- Connection versions (contract v3): every change of a connection's IdP settings is a numbered
-- version; exactly one is active (its settings are the connection row logins read), at most one
-- is a draft, older ones are retired. No foreign key to connections: a setup link drafts the
-- first version of a connection that does not exist until that version is activated.
CREATE TABLE "connection_versions" (
    "connection_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "settings" JSONB NOT NULL,
    "client_secret_enc" TEXT,
    "client_secret_expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "activated_at" TIMESTAMPTZ(3),
    "last_test_at" TIMESTAMPTZ(3),
    "last_test_ok" BOOLEAN,

    CONSTRAINT "connection_versions_pkey" PRIMARY KEY ("connection_id", "version"),
    CONSTRAINT "connection_versions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id")
        ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "connection_versions_tenant_id_idx" ON "connection_versions"("tenant_id");
-- At most one draft and one active version per connection.
CREATE UNIQUE INDEX "connection_versions_one_draft" ON "connection_versions"("connection_id") WHERE "status" = 'draft';
CREATE UNIQUE INDEX "connection_versions_one_active" ON "connection_versions"("connection_id") WHERE "status" = 'active';

-- Every existing connection becomes its own version 1, active.
INSERT INTO "connection_versions" ("connection_id", "version", "tenant_id", "status", "settings",
                                   "client_secret_enc", "created_at", "created_by", "activated_at")
SELECT "id", 1, "tenant_id", 'active',
       jsonb_build_object(
           'issuer', "issuer", 'discoveryUrl', "discovery_url", 'clientId', "client_id",
           'tokenEndpointAuthMethod', "token_endpoint_auth_method", 'signingKeyId', "signing_key_id",
           'assertionAudience', "assertion_audience", 'scopes', to_jsonb("scopes"),
           'subjectClaim', "subject_claim", 'allowedTenantIds', to_jsonb("allowed_tenant_ids"),
           'assumeEmailVerified', "assume_email_verified", 'claimMapping', COALESCE("claim_mapping", '{}'::jsonb),
           'fetchUserinfo', "fetch_userinfo"),
       "client_secret_enc", "created_at", 'admin', "updated_at"
FROM "connections";

-- A test login may run against one version (a draft) rather than the active settings.
ALTER TABLE "test_logins" ADD COLUMN "version" INTEGER;

-- Setup links (contract v3): a bearer link for one tenant's connection, stored as the SHA-256
-- of its token. `connection_id` is reserved at creation when the link makes a new connection.
CREATE TABLE "setup_links" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "connection_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "setup_links_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "setup_links_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id")
        ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "setup_links_token_hash_key" ON "setup_links"("token_hash");
CREATE INDEX "setup_links_tenant_id_idx" ON "setup_links"("tenant_id");
