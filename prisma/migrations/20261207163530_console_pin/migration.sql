-- The console's pinned issuers: console sign-ins through CONSOLE_TENANT are admitted only from
-- these, fixed when the broker first starts with that CONSOLE_TENANT (or set by CONSOLE_ISSUER),
-- so that a later change of the tenant's connections does not carry console rights. One row,
-- for the current CONSOLE_TENANT; an empty list means nothing is pinned yet.
CREATE TABLE "console_pins" (
    "tenant_slug" TEXT NOT NULL,
    "issuers" TEXT[] NOT NULL,
    "pinned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "console_pins_pkey" PRIMARY KEY ("tenant_slug")
);
