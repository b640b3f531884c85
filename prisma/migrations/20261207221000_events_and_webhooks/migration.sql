-- Events and webhooks (contract v4). Every event is a row here before anything reports it
-- done; deliveries are jobs of pg-boss (its own schema, "pgboss", which it creates and
-- migrates itself), each attempt a row of webhook_deliveries.

-- `seq` orders events for GET /admin/events' cursor: events are appended under one
-- transaction-scoped advisory lock (event-log.repo.ts), so they commit in `seq` order and a
-- reader that has seen one has seen every earlier one. Kept 30 days.
CREATE TABLE "events" (
    "seq" BIGINT GENERATED ALWAYS AS IDENTITY,
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    -- session.ended: the session's app (endpoints with an app receive only theirs).
    "app_id" TEXT,
    -- webhook.test: the one endpoint that asked for it.
    "endpoint_id" TEXT,
    "data" JSONB NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "events_pkey" PRIMARY KEY ("seq")
);
CREATE UNIQUE INDEX "events_id_key" ON "events" ("id");
CREATE INDEX "events_type_seq_idx" ON "events" ("type", "seq");
CREATE INDEX "events_at_idx" ON "events" ("at");

-- An endpoint's secrets are sealed (SecretBox): deliveries are signed with them. During a
-- rotation the previous one signs too, until previous_secret_until.
CREATE TABLE "webhook_endpoints" (
    "id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[] NOT NULL,
    "app_id" TEXT,
    "description" TEXT,
    "secret_enc" TEXT NOT NULL,
    "previous_secret_enc" TEXT,
    "previous_secret_until" TIMESTAMPTZ(3),
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabled_reason" TEXT,
    -- The first failed attempt since the last success: 3 days of failures disable the endpoint.
    "failing_since" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_endpoints_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE
);
CREATE INDEX "webhook_endpoints_app_id_idx" ON "webhook_endpoints" ("app_id");

-- One row per delivery attempt, newest first per endpoint; purged with the events.
CREATE TABLE "webhook_deliveries" (
    "id" TEXT NOT NULL,
    "endpoint_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "status" INTEGER,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "next_attempt_at" TIMESTAMPTZ(3),
    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE
);
CREATE INDEX "webhook_deliveries_endpoint_at_idx" ON "webhook_deliveries" ("endpoint_id", "at" DESC);
CREATE INDEX "webhook_deliveries_at_idx" ON "webhook_deliveries" ("at");
