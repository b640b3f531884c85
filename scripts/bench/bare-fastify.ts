/**
 * Calibration for the benchmark: Fastify with nothing on it, answering one JSON route, in its
 * own process. Its CPU per keep-alive request says how fast this machine is at the part of a
 * login no broker can avoid. `node bare-fastify.js <port>`; prints "ready".
 */
import Fastify from 'fastify';

const app = Fastify();
app.get('/', async () => ({ ok: true }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
