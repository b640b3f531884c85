import t from 'tap';
import { isBrokerPath } from '../../src/domain/login/test-login.service.js';

// Open-redirect rule: a test sign-in's diagnostics lead back only to a page of this broker. A path
// a browser would read as another origin is refused: `//host`, a backslash (read as `/`), and tab,
// CR or LF (dropped from a URL, so `/\t/host` becomes `//host`) or any other control character.

t.test('a path of this broker leads back', async (t) => {
  for (const path of ['/setup/abc#next', '/console/connections/x?y=1', '/'])
    t.ok(isBrokerPath(path), JSON.stringify(path));
});

t.test('anything a browser could read as another origin does not', async (t) => {
  for (const path of [
    '//evil.example/',
    '/\\evil.example/',
    '/\t/evil.example/',
    '/\r/evil.example/',
    '/\n/evil.example/',
    '/setup/x\u0000',
    'https://evil.example/',
    'evil.example',
  ])
    t.notOk(isBrokerPath(path), JSON.stringify(path));
});
