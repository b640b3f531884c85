import t from 'tap';
import { IdpAddressRefused, IdpNetworkPolicy, type IdpScheme } from '../../src/oidc/network-policy.js';

// Contract, Configuration: IdP URLs are https on public addresses, or inside
// IDP_PRIVATE_NETWORKS; http only on listed loopback addresses; link-local never.

const none = new IdpNetworkPolicy({ privateNetworks: [] });
const loopback = new IdpNetworkPolicy({ privateNetworks: ['127.0.0.0/8', '::1/128'] });
const onPrem = new IdpNetworkPolicy({
  privateNetworks: ['10.0.0.0/8', 'fd00::/8', '100.64.0.0/10', '::ffff:192.168.0.0/112'],
});
const everything = new IdpNetworkPolicy({ privateNetworks: ['0.0.0.0/0', '::/0', '169.254.0.0/16', 'fe80::/10'] });

// [rule, policy, address, scheme, allowed]
const table: [string, IdpNetworkPolicy, string, IdpScheme, boolean][] = [
  ['a public IPv4 address is allowed over https', none, '93.184.216.34', 'https:', true],
  ['a public IPv6 address is allowed over https', none, '2606:4700::6810:85e5', 'https:', true],
  ['a private address is refused unless listed', none, '10.1.2.3', 'https:', false],
  ['192.168/16 is refused unless listed', none, '192.168.1.10', 'https:', false],
  ['172.16/12 is refused unless listed', none, '172.16.0.5', 'https:', false],
  ['loopback is refused unless listed', none, '127.0.0.1', 'https:', false],
  ['IPv6 loopback is refused unless listed', none, '::1', 'https:', false],
  ['carrier-grade NAT (100.64/10) is refused unless listed', none, '100.64.0.1', 'https:', false],
  ['unique-local IPv6 (fc00::/7) is refused unless listed', none, 'fd12:3456::1', 'https:', false],
  ['IPv4-mapped IPv6 is judged as the IPv4 address it carries', none, '::ffff:10.0.0.1', 'https:', false],
  ['IPv4-mapped IPv6 of a public address is allowed', none, '::ffff:93.184.216.34', 'https:', true],
  ['NAT64 (64:ff9b::/96) of a private address is not public', none, '64:ff9b::a00:1', 'https:', false],
  ['NAT64 of a public address is public (DNS64 on an IPv6-only host)', none, '64:ff9b::808:808', 'https:', true],
  ['NAT64 of an address inside a listed range is allowed', onPrem, '64:ff9b::a00:1', 'https:', true],
  ['IPv4-compatible ::a.b.c.d is refused', none, '::808:808', 'https:', false],
  ['IPv4-compatible link-local is refused even when everything is listed', everything, '::a9fe:a9fe', 'https:', false],
  ['documentation addresses are not public', none, '192.0.2.10', 'https:', false],
  ['the unspecified address is refused', none, '0.0.0.0', 'https:', false],
  ['a listed private network is allowed', onPrem, '10.9.8.7', 'https:', true],
  ['a listed unique-local network is allowed', onPrem, 'fd00::5', 'https:', true],
  ['a listed CGNAT network is allowed', onPrem, '100.64.3.4', 'https:', true],
  ['a listed IPv4-mapped network matches the IPv4 address', onPrem, '192.168.0.20', 'https:', true],
  ['an IPv4-mapped address matches a listed IPv4 network', onPrem, '::ffff:10.0.0.1', 'https:', true],
  ['a private address outside the listed networks is refused', onPrem, '172.16.0.5', 'https:', false],
  ['listed loopback is allowed over https', loopback, '127.0.0.1', 'https:', true],
  ['listed loopback is allowed over http', loopback, '127.0.0.2', 'http:', true],
  ['listed IPv6 loopback is allowed over http', loopback, '::1', 'http:', true],
  ['IPv4-mapped loopback is allowed over http when 127/8 is listed', loopback, '::ffff:127.0.0.1', 'http:', true],
  ['http on unlisted loopback is refused', none, '127.0.0.1', 'http:', false],
  [
    'http on loopback outside the listed range is refused',
    new IdpNetworkPolicy({ privateNetworks: ['127.0.0.1/32'] }),
    '127.0.0.2',
    'http:',
    false,
  ],
  ['http on a public address is refused', everything, '93.184.216.34', 'http:', false],
  ['http on a listed private address is refused (loopback only)', onPrem, '10.0.0.1', 'http:', false],
  ['link-local (cloud metadata) is refused', none, '169.254.169.254', 'https:', false],
  ['link-local is refused even when listed', everything, '169.254.169.254', 'https:', false],
  ['IPv6 link-local is refused even when listed', everything, 'fe80::1', 'https:', false],
  [
    'IPv4-mapped link-local is refused even when everything is listed',
    everything,
    '::ffff:169.254.169.254',
    'https:',
    false,
  ],
  ['NAT64 link-local is refused even when everything is listed', everything, '64:ff9b::a9fe:a9fe', 'https:', false],
  ['6to4 link-local is refused even when everything is listed', everything, '2002:a9fe:a9fe::1', 'https:', false],
  ['the unspecified address is refused even when everything is listed', everything, '0.0.0.0', 'https:', false],
  ['the IPv6 unspecified address is refused even when everything is listed', everything, '::', 'https:', false],
  ['0.0.0.0/0 listed allows a private address', everything, '10.0.0.1', 'https:', true],
];

for (const [rule, policy, address, scheme, allowed] of table) {
  t.test(`network rule: ${rule}`, async (t) => {
    const problem = policy.addressProblem(address, scheme);
    if (allowed) t.equal(problem, undefined, `${scheme}//${address} allowed`);
    else t.type(problem, 'string', `${scheme}//${address} refused: ${problem}`);
  });
}

t.test(
  'network rule: every address a name resolves to counts, and the reason names the URL, the name and the address',
  async (t) => {
    const answers: Record<string, string[]> = {
      'mixed.example': ['127.0.0.1', '10.0.0.1'],
      'metadata.example': ['169.254.169.254'],
      'ok.example': ['127.0.0.5', '::1'],
      'empty.example': [],
    };
    const policy = new IdpNetworkPolicy({
      privateNetworks: ['127.0.0.0/8', '::1/128', '169.254.0.0/16'],
      lookup: async (name) =>
        (answers[name] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    });
    const refusal = async (url: string) => {
      try {
        await policy.assertAllowed(url);
        return undefined;
      } catch (error) {
        t.type(error, IdpAddressRefused);
        return (error as Error).message;
      }
    };
    t.equal(await refusal('https://ok.example/token'), undefined, 'all listed: allowed');
    t.equal(await refusal('http://ok.example/token'), undefined, 'all listed loopback: http allowed');
    t.equal(
      await refusal('https://mixed.example/token'),
      'https://mixed.example/token: mixed.example resolves to 10.0.0.1, a private address outside IDP_PRIVATE_NETWORKS',
    );
    t.equal(
      await refusal('https://metadata.example/latest/meta-data'),
      'https://metadata.example/latest/meta-data: metadata.example resolves to 169.254.169.254, a link-local address (cloud metadata), never contacted',
    );
    t.equal(
      await refusal('http://169.254.169.254/latest'),
      'http://169.254.169.254/latest: 169.254.169.254 is a link-local address (cloud metadata), never contacted',
    );
    t.match(await refusal('http://[fe80::1]/x'), /fe80::1 is a link-local address/);
    t.match(await refusal('https://empty.example/'), /resolves to no address/);
    t.match(await refusal('ftp://ok.example/'), /must use https/);
    t.equal(await refusal('http://127.0.0.1:8080/x'), undefined, 'a listed loopback literal over http');
    t.equal(
      await new IdpNetworkPolicy({ privateNetworks: [] }).assertAllowed('http://127.0.0.1:8080/x').then(
        () => undefined,
        (error: Error) => error.message,
      ),
      'http://127.0.0.1:8080/x: http is accepted only on loopback addresses listed in IDP_PRIVATE_NETWORKS (127.0.0.1 is a loopback address not listed)',
    );
  },
);

t.test('network rule: the connect-time lookup hands back only checked addresses, all of them when asked', async (t) => {
  const policy = new IdpNetworkPolicy({
    privateNetworks: ['127.0.0.0/8', '::1/128'],
    lookup: async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ],
  });
  const lookup = policy.netLookup('http:');
  const call = (options: object) =>
    new Promise<unknown[]>((resolve) =>
      lookup('idp.test', options, (error, address, family) => resolve([error?.message ?? null, address, family])),
    );
  t.same(await call({ all: true }), [
    null,
    [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ],
    undefined,
  ]);
  t.same(await call({}), [null, '127.0.0.1', 4]);
  t.same(await call({ family: 6 }), [null, '::1', 6]);

  const rebound = new IdpNetworkPolicy({
    privateNetworks: ['127.0.0.1/32'],
    lookup: async () => [{ address: '127.0.0.3', family: 4 }],
  });
  const [error, address] = await new Promise<unknown[]>((resolve) =>
    rebound.netLookup('http:')('idp.test', { all: true }, (e, a) => resolve([e, a])),
  );
  t.type(error, IdpAddressRefused, 'a refused address is an error, not an address');
  t.equal(address, '');
});

t.test('configuration: an entry that is not a CIDR range is refused with its value', async (t) => {
  t.throws(() => new IdpNetworkPolicy({ privateNetworks: ['10.0.0.0/33'] }), /"10.0.0.0\/33" is not a CIDR range/);
});
