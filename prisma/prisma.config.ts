// Prisma CLI configuration, for operators who run `prisma migrate deploy` themselves:
//   DATABASE_URL=... npx prisma migrate deploy --config prisma/prisma.config.ts
// The broker itself applies the same migrations at start (MIGRATE_ON_START).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
