// A real OpenID provider for the tests: node-oidc-provider (panva's certified provider, from
// npm, installed by scripts/oidc-provider.sh into .oidc-provider/), configured for the
// client-credentials grant with resource indicators and JWT access tokens. Nothing here decides
// anything about tokens: the provider signs them its own way.
//
//   node oidc_provider.mjs <port> <generation>
//
// One resource server per algorithm: `https://api.example.test/<alg>` gets access tokens
// signed with <alg> (RS256, PS256, ES256, EdDSA, Ed25519), `https://api.example.test/opaque`
// opaque ones (introspection and revocation are on). The keys (RSA 2048, P-256, Ed25519) are
// generated at start; `generation` names their kids (`rsa-<generation>` ...), so a restart
// with another generation is a key rotation.
// Prints "ready <issuer>" once listening on 127.0.0.1.
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [port, generation = '1'] = process.argv.slice(2);
const dir = process.env.OIDC_PROVIDER_DIR;
const { default: Provider } = await import(
  pathToFileURL(path.join(dir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href
);

const issuer = `http://127.0.0.1:${port}`;
const jwk = (type, options, kid) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
});
const keys = [
  jwk('rsa', { modulusLength: 2048 }, `rsa-${generation}`),
  jwk('ec', { namedCurve: 'P-256' }, `ec-${generation}`),
  jwk('ed25519', {}, `ed-${generation}`),
];
const API = 'https://api.example.test/';
const ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'];

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'client-basic',
      client_secret: 'secret-basic-0123456789abcdef0123456789',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'payments:read',
    },
    {
      client_id: 'client-post',
      client_secret: 'secret-post-0123456789abcdef0123456789a',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'payments:read',
    },
  ],
  jwks: { keys },
  scopes: ['payments:read'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => `${API}ES256`,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        // `<API><alg>/short`: tokens that live 2 s (a resource server refusing an expired one).
        const [alg, short] = resource.slice(API.length).split('/');
        if (!resource.startsWith(API) || !(ALGS.includes(alg) || alg === 'opaque') || ![undefined, 'short'].includes(short)) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: 'payments:read',
          audience: resource,
          accessTokenTTL: short ? 2 : 1200,
          ...(alg === 'opaque' ? { accessTokenFormat: 'opaque' } : { accessTokenFormat: 'jwt', jwt: { sign: { alg } } }),
        };
      },
    },
  },
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
