// Runs `prisma generate` without Prisma's schema-engine binary: generation does not use the
// engine, but the CLI looks for one (and would download it) unless this variable names a file.
import { spawnSync } from 'node:child_process';

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync('npx', ['prisma', 'generate', '--config', 'prisma/prisma.config.ts', '--no-hints'], {
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
process.exit(result.status ?? 1);
