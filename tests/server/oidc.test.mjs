// tests/server/oidc.test.mjs - urbac serve --oidc against a real OpenID provider:
// npm's oidc-provider (pinned in tests/server/package-lock.json), run here over
// HTTPS with a certificate of a test CA made for the run (urbac trusts it through
// the providers file's caFile, the same path a private PKI takes). The provider
// issues JWT access tokens by client_credentials; urbac discovers its keys from
// the issuer and accepts the tokens. Then the provider rotates its signing key:
// a token of the new key is accepted after the unknown-kid fetch; tokens of a key
// never published are refused, and a burst of them costs the provider one fetch
// at most; a provider that fails leaves urbac on the keys it had; SIGHUP reads
// the providers file and the keys again; keys are fetched again periodically;
// and a provider that cannot be trusted, named wrongly, too large or too slow is
// refused at startup with its URL.
//
// Why TLS rather than plain HTTP on loopback: urbac fetches https:// only, with
// no switch to allow anything else, so the test runs the code path production
// runs (certificate and host name checked), and there is no insecure switch for
// an operator to leave on.
//
// Env: URBAC (the binary), URBAC_SRC (the repository). Needs `npm ci` in
// tests/server (scripts/test.sh runs it) and openssl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer, request } from 'node:https';
import { generateKeyPairSync, createSign, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import { store, serve, client, T, q } from './serve.mjs';

const AUDIENCE = 'urn:urbac';
const CLIENT = { client_id: 'soc-tool', client_secret: 'a-client-secret-for-the-test' };
const USER = 'alice@contoso.com';
// A second client, as Entra ID's provisioning service: its tokens name erin, who may
// manage contoso's configuration, so they may use contoso's SCIM endpoint.
const PROVISIONER = { client_id: 'entra-provisioning', client_secret: 'another-client-secret-for-the-test' };
const ADMIN = 'erin@contoso.com';
const CHECK = `${T}/check?${q({ user: USER, permission: 'Alerts (manage)', workload: 'mde', scope: 'device:lap-042' })}`;

let dir, db, cli, idp, issuer, ca, urbac, call, accessLog;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the test CA

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCertificates() {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=urbac test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'idp.key', '-out', 'idp.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'idp.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'idp.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'idp.pem',
    '-days', '2', '-extfile', 'idp.ext');
  return join(dir, 'ca.pem');
}

// ---------------------------------------------------------------- the provider

function signingKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

// An oidc-provider for `issuer` signing with keys[0] and publishing them all.
function provider(keys) {
  return new Provider(issuer, {
    clients: [CLIENT, PROVISIONER].map((c) => ({ ...c, grant_types: ['client_credentials'], redirect_uris: [],
      response_types: [] })),
    jwks: { keys: keys.map((k) => k.jwk) },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'check', audience: AUDIENCE, accessTokenFormat: 'jwt',
          accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } }),
      },
    },
    // as Entra ID's access tokens carry them: the user's object id and sign-in name
    extraTokenClaims: (ctx, t) => (t.clientId === PROVISIONER.client_id ? { preferred_username: ADMIN }
      : { preferred_username: USER, oid: '00000000-0000-0000-0000-00000000a11c' }),
  });
}

// The HTTPS server in front: routes to the current provider, counts the key
// fetches, and can fail (mode 'down'). Also serves a document too large and one
// that never comes, for the startup refusals.
function startIdp() {
  const state = { current: null, jwksGets: 0, discoveryGets: 0, mode: 'up' };
  const server = createServer({ key: readFileSync(join(dir, 'idp.key')), cert: readFileSync(join(dir, 'idp.pem')) },
    (req, res) => {
      if (req.url.startsWith('/huge/')) return res.end(`{"pad": "${'x'.repeat(600 * 1024)}"}`);
      if (req.url.startsWith('/slow/')) return; // never answers
      if (req.url === '/jwks') state.jwksGets++;
      if (req.url === '/.well-known/openid-configuration') state.discoveryGets++;
      if (state.mode === 'down') {
        res.statusCode = 503;
        return res.end('down for maintenance');
      }
      return state.current.callback()(req, res);
    });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    state.server = server;
    state.port = server.address().port;
    resolve(state);
  }));
}

// An access token from the provider by client_credentials (over HTTPS, trusting the test CA).
function token(c = CLIENT) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'check', resource: AUDIENCE }).toString();
  return new Promise((resolve, reject) => {
    const req = request(`${issuer}/token`, {
      method: 'POST', ca: readFileSync(ca), auth: `${c.client_id}:${c.client_secret}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).access_token)
        : reject(new Error(`token: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));

// A token as the provider would make it, signed by `key` (never published) under `kid`.
function forged(kid, key) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'RS256', typ: 'at+jwt', kid })}.${b64({ iss: issuer, aud: AUDIENCE, sub: CLIENT.client_id,
    preferred_username: USER, iat: now, exp: now + 600, jti: randomUUID() })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(key.privateKey).toString('base64url')}`;
}

// ---------------------------------------------------------------- urbac

function providersFile(name, extra = {}) {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ providers: [{ tenant: 'contoso', issuer, audience: AUDIENCE,
    userClaim: 'preferred_username', caFile: 'ca.pem', timeoutSeconds: 3, ...extra }] }));
  return path;
}

// The JSON events urbac wrote to its access log (requests have no "event").
function events(kind) {
  if (!existsSync(accessLog)) return [];
  return readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.event === kind);
}

async function until(what, fn, ms = 8000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await fn()) return;
  assert.fail(`waited ${ms} ms for ${what}`);
}

// `urbac serve` that must refuse to start: resolves with its exit code and standard error.
function refused(oidcFile) {
  return new Promise((resolve) => {
    const p = spawn(process.env.URBAC, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--oidc', oidcFile],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d) => { if (/serving on/.test(d)) p.kill(); });
    p.on('exit', (code) => resolve({ code, err }));
  });
}

const k1 = signingKey('k1'), k2 = signingKey('k2'), k3 = signingKey('k3'), never = signingKey('never');

before(async () => {
  ({ dir, db, cli } = store('urbac-oidc-', 'a-preshared-key-long-enough'));
  ca = makeCertificates();
  idp = await startIdp();
  issuer = `https://127.0.0.1:${idp.port}`;
  idp.current = provider([k1]);
  accessLog = join(dir, 'access.log');
  urbac = await serve(db, ['--oidc', providersFile('oidc.json', { minRefreshSeconds: 2 }), '--access-log', accessLog]);
  call = client(urbac.base);
});

after(() => {
  urbac?.p.kill();
  idp?.server.closeAllConnections();
  idp?.server.close();
});

test('a token of the provider is accepted; its keys were discovered from the issuer', async () => {
  assert.equal(idp.discoveryGets, 1);
  assert.equal(idp.jwksGets, 1);
  const t = await token();
  assert.equal(header(t).kid, 'k1');
  const r = await call('GET', CHECK, { token: t });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.decision, 'allow');
});

// Issue 11: "Or an Entra-issued token: ... verified like any OIDC JWT"; "Every SCIM
// write is audited as the provisioning identity".
test('a provider token may provision through SCIM when its user may manage the tenant, audited as that user',
  async () => {
    const S = `${T}/scim/v2`;
    const scimError = (r, status) => {
      assert.equal(r.status, status, r.text);
      assert.match(r.headers.get('content-type'), /^application\/scim\+json/);
      assert.deepEqual(r.json.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
      assert.equal(r.json.status, String(status));
    };
    scimError(await call('GET', `${S}/Users`, { token: await token() }), 403); // alice may not
    const t = await token(PROVISIONER);
    const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'oidc-made@contoso.com',
      externalId: randomUUID(), active: true };
    const made = await call('POST', `${S}/Users`, { token: t, body: user });
    assert.equal(made.status, 201, made.text);
    const found = await call('GET', `${S}/Users?${q({ filter: `userName eq "${user.userName}"` })}`, { token: t });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.json.totalResults, 1);
    const audit = JSON.parse(cli('audit', 'log', '--object', user.userName, '--json'));
    const last = (audit.value ?? audit).at(-1);
    assert.equal(last.actor, `jwt:${PROVISIONER.client_id}`, JSON.stringify(audit)); // the token's subject
    assert.equal(last.command, 'POST /scim/v2/Users');
  });

test('tokens of a key never published are refused; a burst of made-up kids costs one fetch at most', async () => {
  await sleep(2100); // minRefreshSeconds since the startup fetch
  const before = idp.jwksGets;
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => call('GET', CHECK, { token: forged(`made-up-${i}`, never) })));
  for (const r of burst) {
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /key id is not among the issuer's keys/);
  }
  assert.equal(idp.jwksGets - before, 1, 'one fetch for the whole burst');
  const again = await call('GET', CHECK, { token: forged('made-up-again', never) });
  assert.equal(again.status, 401);
  assert.equal(idp.jwksGets - before, 1, 'none within minRefreshSeconds');
  // a known kid with a key that is not the provider's: the signature, and no fetch
  const r = await call('GET', CHECK, { token: forged('k1', never) });
  assert.equal(r.status, 401);
  assert.match(r.json.error.message, /signature does not verify/);
  assert.equal(idp.jwksGets - before, 1);
});

test('the provider rotates its key: tokens of the new key are accepted after the unknown-kid fetch', async () => {
  const old = await token();
  idp.current = provider([k2, k1]); // k2 signs now; k1 still published
  await sleep(2100);
  const before = idp.jwksGets;
  const fresh = await token();
  assert.equal(header(fresh).kid, 'k2');
  const r = await call('GET', CHECK, { token: fresh });
  assert.equal(r.status, 200, r.text);
  assert.equal(idp.jwksGets - before, 1);
  assert.equal((await call('GET', CHECK, { token: old })).status, 200); // k1 still published
  const ev = events('oidc_keys').at(-1);
  assert.equal(ev.issuer, issuer);
  assert.equal(ev.keys, 2);
  assert.equal(ev.error, undefined);
});

test('a provider that fails leaves urbac on the keys it had, and the failure is logged with its URL', async () => {
  const t = await token();
  idp.mode = 'down';
  try {
    await sleep(2100);
    const before = idp.jwksGets + idp.discoveryGets;
    const r = await call('GET', CHECK, { token: forged('k9', never) });
    assert.equal(r.status, 401);
    assert.equal(idp.jwksGets + idp.discoveryGets - before, 1, 'the discovery document was asked for');
    const ev = events('oidc_keys').at(-1);
    assert.match(ev.error, new RegExp(`GET ${issuer}/.well-known/openid-configuration: HTTP status 503`));
    assert.equal(ev.kept, 'the previous keys');
    assert.equal((await call('GET', CHECK, { token: t })).status, 200);
  } finally {
    idp.mode = 'up';
  }
});

test('SIGHUP reads the providers file and the keys again; a bad file keeps the previous providers', async () => {
  const previous = await token(); // k2
  idp.current = provider([k3]); // k1 and k2 withdrawn
  // minRefreshSeconds of an hour: only the reload can have fetched k3
  providersFile('oidc.json', { minRefreshSeconds: 3600 });
  const reloads = events('oidc_reload').length;
  urbac.p.kill('SIGHUP');
  await until('the reload', () => events('oidc_reload').length > reloads);
  assert.equal(events('oidc_reload').at(-1).error, undefined);
  const fresh = await token();
  assert.equal(header(fresh).kid, 'k3');
  assert.equal((await call('GET', CHECK, { token: fresh })).status, 200);
  const r = await call('GET', CHECK, { token: previous });
  assert.equal(r.status, 401);
  assert.match(r.json.error.message, /not among the issuer's keys \(fetched again at most every 3600 s\)/);
  // a file that does not load: the providers and keys stay
  writeFileSync(join(dir, 'oidc.json'), '{"providers": [{"tenant": "contoso"}]}');
  urbac.p.kill('SIGHUP');
  await until('the failed reload', () => events('oidc_reload').length > reloads + 1);
  const ev = events('oidc_reload').at(-1);
  assert.match(ev.error, /providers\[0\]\.issuer: a string is required/);
  assert.equal(ev.kept, 'the previous OIDC providers');
  assert.equal((await call('GET', CHECK, { token: fresh })).status, 200);
  // the audience changed by a reload: the same token is refused for it
  providersFile('oidc.json', { audience: 'api://another-app' });
  urbac.p.kill('SIGHUP');
  await until('the third reload', () => events('oidc_reload').length > reloads + 2);
  const other = await call('GET', CHECK, { token: fresh });
  assert.equal(other.status, 401);
  assert.match(other.json.error.message, /audience is not 'api:\/\/another-app'/);
});

test('keys are fetched again every refreshSeconds without any request', async () => {
  const file = providersFile('periodic.json', { refreshSeconds: 1 });
  const log = join(dir, 'periodic.log');
  const second = await serve(db, ['--oidc', file, '--access-log', log]);
  try {
    const before = idp.jwksGets;
    await until('two periodic fetches', () => idp.jwksGets - before >= 2, 6000);
  } finally {
    second.p.kill();
  }
});

test('providers refused at startup, each error naming the provider and the URL', async () => {
  const cases = [
    [{ caFile: undefined }, /GET https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration: .*certificate/i],
    [{ issuer: `https://localhost:${idp.port}` },
      /tenant contoso, issuer https:\/\/localhost:\d+\): GET .*: the document's issuer is 'https:\/\/127\.0\.0\.1:\d+', not 'https:\/\/localhost:\d+'/],
    [{ issuer: `${issuer}/huge` }, /GET https:\/\/127\.0\.0\.1:\d+\/huge\/\.well-known\/openid-configuration: the response is larger than 524288 bytes/],
    [{ issuer: `${issuer}/slow`, timeoutSeconds: 1 }, /GET https:\/\/127\.0\.0\.1:\d+\/slow\/\.well-known\/openid-configuration: .*timed out/i],
    [{ issuer: `${issuer}/nothing-here` }, /openid-configuration: HTTP status 404/],
    [{ issuer: `http://127.0.0.1:${idp.port}` }, /issuer: 'http:\/\/127\.0\.0\.1:\d+' is not an https:\/\/ URL/],
  ];
  for (const [extra, want] of cases) {
    const { code, err } = await refused(providersFile('refused.json', extra));
    assert.equal(code, 2, err);
    assert.match(err, want);
  }
});
