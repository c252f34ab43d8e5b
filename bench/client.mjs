// bench/client.mjs - the benchmarks' HTTP client: Node's own http module on
// kept-alive connections. The SCIM cycle runs its clients on the 2 cores the
// server has, and fetch() (undici) spent about as much CPU per request as the
// server did (about 1 ms: 27 s of client CPU for a 20,000-user cycle against
// 24 s of server CPU), so the one-process client, not the server, set the pace.
// Entra's provisioning service does not share the server's cores; this client
// costs a fraction of that, so the figures say what the server does.
import http from 'node:http';

// An agent for `sockets` concurrent requests; request(agent, method, url, headers,
// body) resolves to { status, headers, text }.
export const agent = (sockets) => new http.Agent({ keepAlive: true, maxSockets: sockets });

export function request(agent, method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(url, {
      method, agent,
      headers: data ? { ...headers, 'content-length': data.length } : headers,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}
