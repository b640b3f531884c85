-- A connection's own ACR values (contract v4, step-up): sent on every login of the connection
-- after the app's, and one of them (or of the app's) must come back as the ID token's acr.
ALTER TABLE "connections" ADD COLUMN "acr_values" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
