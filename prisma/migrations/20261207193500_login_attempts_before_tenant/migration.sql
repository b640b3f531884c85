-- A login that failed before a tenant was known (no such organisation, app or return URL) is
-- recorded too, so the request id on the learner's error page finds it: no tenant then.
ALTER TABLE "login_attempts" ALTER COLUMN "tenant_id" DROP NOT NULL;

-- The step a failure happened at (a start step, or a callback step).
ALTER TABLE "login_attempts" ADD COLUMN "step" TEXT;

-- The console finds an attempt by the request id a learner reports.
CREATE INDEX "login_attempts_request_id_idx" ON "login_attempts"("request_id");
