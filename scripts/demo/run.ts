/**
 * npm run demo — the broker, two organisations' identity providers and a relying app on this
 * machine (README, "Try it: the demo"). Ports: DEMO_PORT (the broker, default 3000) and the
 * next four (app, Acme's IdP, Globex's IdP, Initech's IdP). Ctrl-C stops everything.
 */
import { DEMO_PASSWORD, startDemo } from './demo.js';

const base = Number(process.env.DEMO_PORT ?? 3000);
if (!Number.isInteger(base) || base < 1 || base > 65532) {
  process.stderr.write(`DEMO_PORT must be a port number, not ${JSON.stringify(process.env.DEMO_PORT)}\n`);
  process.exit(2);
}
const say = (line: string) => process.stdout.write(`${line}\n`);

let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo(
    { broker: base, app: base + 1, acmeIdp: base + 2, globexIdp: base + 3, initechIdp: base + 4 },
    say,
  );
} catch (error) {
  const message =
    (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? `a demo port is in use (${(error as Error).message}); set DEMO_PORT to another base port`
      : (error as Error).message;
  process.stderr.write(`the demo could not start: ${message}\n`);
  process.exit(1);
}

say('');
say(`  Open ${demo.appUrl} and choose "Continue with SSO".`);
say('');
for (const org of demo.organisations) {
  say(`  ${org.name} (tenant "${org.slug}", ${org.tenantUrl}):`);
  for (const user of org.users) say(`    ${user.email.padEnd(22)} password: ${DEMO_PASSWORD}`);
}
say('');
const { onboarding } = demo;
say(`  ${onboarding.name} is not connected yet. Play its IdP engineer with the setup link:`);
say(`    ${onboarding.setupLink}`);
say(`    what its IdP handed out: issuer ${onboarding.issuer}, client id ${onboarding.clientId},`);
say(`    client secret ${onboarding.clientSecret} (client secret method); test user`);
say(`    ${onboarding.users[0]?.email ?? ''} password: ${DEMO_PASSWORD}`);
say('');
say(`  Broker: ${demo.brokerUrl} · setup page ${demo.brokerUrl}/api/sso/setup · admin token ${demo.adminToken}`);
say(`  Operators' console: ${demo.brokerUrl}/console (sign in with the admin token)`);
say('  Ctrl-C stops everything.');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  say('\nstopping…');
  await demo.stop();
  say('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
