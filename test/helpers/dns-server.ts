import { createSocket } from 'node:dgram';
import * as packet from 'dns-packet';
import { freePort } from '../../src/config/local.js';

export interface TestDns {
  /** For DNS_SERVERS: 127.0.0.1:<port>. */
  server: string;
  /** TXT records by name (lower-case), each a record's value; set and delete freely. */
  txt: Map<string, string[]>;
  /** Names asked for, in order. */
  queries: string[];
}

/**
 * A DNS server on loopback (UDP, dns-packet) answering TXT queries from `txt`: NXDOMAIN for a
 * name without records. No real DNS is reachable here, and none is needed.
 */
export async function startDnsServer(t: { teardown(fn: () => unknown): void }): Promise<TestDns> {
  const port = await freePort();
  const txt = new Map<string, string[]>();
  const queries: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (message, from) => {
    const query = packet.decode(message);
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    queries.push(name);
    const values = question.type === 'TXT' ? txt.get(name) : undefined;
    const answer = packet.encode({
      type: 'response',
      id: query.id,
      flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_AVAILABLE | (values ? 0 : 3),
      questions: query.questions,
      answers: (values ?? []).map((value) => ({
        type: 'TXT' as const,
        name: question.name,
        ttl: 60,
        // Long values in 255-byte strings, as DNS carries them.
        data: value.match(/.{1,255}/g) ?? [''],
      })),
    });
    socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { server: `127.0.0.1:${port}`, txt, queries };
}
