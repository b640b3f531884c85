-- The request id a learner sees on an error page (and every log line of that request has), on
-- the login attempt it ended: an operator finds the attempt from a learner's screenshot.
ALTER TABLE "login_attempts" ADD COLUMN "request_id" TEXT;
