import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';
import { envSchema } from '../../src/config/env.schema.js';
import { createConnectionSchema, patchConnectionSchema } from '../../src/domain/connections/connection.schema.js';
import { ERROR_TABLE, type ErrorCode } from '../../src/errors/broker-error.js';
import { redeemAnswer } from '../../src/http/openapi/answers.js';
import { IdpNetworkPolicy } from '../../src/oidc/network-policy.js';
import { validateIdp } from '../../src/oidc/validate-idp.js';
import { startBroker } from '../helpers/broker.js';
import { packageRoot } from '../../src/config/local.js';

// The project documents itself (docs/reference/): what integrators and operators rely on is
// read from the code here and looked up in those pages, so that a variable, error code,
// connection field, validation check, route or redeem-answer field cannot be added without
// being documented, and a page cannot keep describing one that is gone.

const ROOT = packageRoot();
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

/** The part of a page from the heading `title` (any level) to the next heading of that level or higher. */
function section(page: string, title: string): string {
  const lines = page.split('\n');
  const start = lines.findIndex((line) => /^#+ /.test(line) && line.replace(/^#+ /, '') === title);
  if (start === -1) throw new Error(`no heading "${title}"`);
  const level = /^#+/.exec(lines[start] ?? '')?.[0].length ?? 1;
  const end = lines.findIndex((line, i) => i > start && (/^#+ /.exec(line)?.[0].length ?? 99) - 1 <= level);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** The cells of every Markdown table row (`| a | b |`) of a text, trimmed; `\|` stays in its cell. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

/** The rows whose first cell is one code span (`name`), by that name. */
function rowsByName(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const cells of tableRows(text)) {
    const name = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (name !== undefined) rows.set(name, cells);
  }
  return rows;
}

const sorted = (values: Iterable<string>) => [...values].sort();

t.test('environment: every variable the broker reads is documented, and nothing else', async (t) => {
  const variables = Object.keys(envSchema.shape);
  t.ok(variables.length > 20, 'the schema’s variables were read');
  const documented = [...rowsByName(read('docs/reference/environment.md')).keys()].filter((name) =>
    /^[A-Z][A-Z0-9_]+$/.test(name),
  );
  t.same(
    variables.filter((name) => !documented.includes(name)),
    [],
    'every variable has a row in docs/reference/environment.md',
  );
  t.same(
    documented.filter((name) => !variables.includes(name)),
    [],
    'every row of docs/reference/environment.md is a variable the broker reads',
  );
  const example = read('.env.example');
  t.same(
    variables.filter((name) => !new RegExp(`^${name}=`, 'm').test(example)),
    [],
    'every variable has a line NAME= in .env.example',
  );
});

t.test('error codes: every code with its HTTP status and whether it goes back to the app', async (t) => {
  const page = read('docs/reference/error-codes.md');
  const rows = rowsByName(section(page, 'The codes'));
  const codes = Object.keys(ERROR_TABLE) as ErrorCode[];
  for (const code of codes) {
    const cells = rows.get(code);
    if (!cells) {
      t.fail(`${code} has no row in docs/reference/error-codes.md`);
      continue;
    }
    const { status, allowRedirect } = ERROR_TABLE[code];
    t.equal(cells[1], String(status), `${code}: HTTP ${status}`);
    t.equal(
      cells[2],
      allowRedirect ? 'yes' : 'no',
      `${code}: ${allowRedirect ? 'back to the app' : 'never redirected'}`,
    );
  }
  t.same(
    [...rows.keys()].filter((code) => !codes.includes(code as ErrorCode)),
    [],
    'every code on the page is one the broker has',
  );
  const returned = section(page, 'Codes an app receives on its return URL');
  const named = [...returned.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? '').filter((c) => c in ERROR_TABLE);
  t.same(
    sorted(new Set(named)),
    sorted(codes.filter((code) => ERROR_TABLE[code].allowRedirect)),
    'the list of codes an app receives is exactly the redirecting ones',
  );
});

t.test('connection options: every field of the connection, and every check of the report', async (t) => {
  const page = read('docs/reference/connection-options.md');
  const fields = new Set([...Object.keys(createConnectionSchema.shape), ...Object.keys(patchConnectionSchema.shape)]);
  t.same(sorted(rowsByName(section(page, 'Fields')).keys()), sorted(fields), 'the fields table is the schema’s fields');

  // With no discovery document, the report still lists every check it has (each failing).
  const report = await validateIdp({
    issuer: 'https://idp.example',
    tokenEndpointAuthMethod: 'client_secret_post',
    timeoutSeconds: 1,
    networkPolicy: new IdpNetworkPolicy({ privateNetworks: [] }),
    fetch: () => Promise.reject(new Error('no network in this test')),
  });
  const checks = report.checks.map((check) => check.id);
  t.ok(checks.length >= 8, 'the report’s checks were read');
  t.same(
    [...rowsByName(section(page, 'The validation report')).keys()],
    checks,
    'the check ids table lists every check, in the report’s order',
  );
});

t.test('HTTP API: every field of the redeem answer', async (t) => {
  const redeem = section(read('docs/reference/http-api.md'), '`POST /api/sso/tickets/redeem`');
  t.same(
    sorted(rowsByName(redeem).keys()),
    sorted(Object.keys(redeemAnswer.shape)),
    'the answer table names exactly the answer’s fields',
  );
});

/**
 * Every route the broker serves, as "METHOD /path" with `{param}`, read from Fastify's own
 * route tree (`printRoutes({ commonPrefix: false })`: one line per path segment, indented by
 * depth, with the methods that end there).
 */
function servedRoutes(tree: string): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const parents: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const path = (parents[depth - 1] ?? '') + (match[2] ?? '');
    parents[depth] = path;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) routes.push({ method, path });
  }
  return routes;
}

t.test('HTTP API: every route the broker serves is documented, and every route documented is served', async (t) => {
  const broker = await startBroker(t);
  const page = read('docs/reference/http-api.md');
  const routes = servedRoutes(broker.app.printRoutes({ commonPrefix: false }));
  for (const route of routes) {
    // The tree is read right: each route found is one Fastify serves. The tree prints a wildcard
    // without its prefix; the only wildcard is Swagger UI's, below its page.
    if (route.path.includes('*')) t.ok(route.path.startsWith('/admin/reference/'), `${route.path}: Swagger UI's`);
    else t.ok(broker.app.hasRoute({ method: route.method as 'GET', url: route.path }), `${route.method} ${route.path}`);
  }
  const documentable = routes.filter(
    // HEAD comes with every GET; Swagger UI's own assets live below its page.
    (route) => route.method !== 'HEAD' && !route.path.startsWith('/admin/reference/'),
  );
  t.ok(documentable.length > 60, `the routes were read (${documentable.length})`);
  for (const { method, path } of documentable) {
    const named = `${method} ${path.replace(/:(\w+)/g, '{$1}')}`;
    const escaped = named.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    t.match(page, new RegExp(`${escaped}(?![\\w/{}.-])`), `${named} is in docs/reference/http-api.md`);
  }
  for (const [, method, path] of page.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s?]*)/g)) {
    const url = (path ?? '').replace(/\{(\w+)\}/g, ':$1');
    t.ok(broker.app.hasRoute({ method: method as 'GET', url }), `${method} ${path}, named on the page, is served`);
  }
});
