// panva's oidc-provider, as a second OIDC implementation for warden's provider health tests.
// Usage: node server.mjs [PORT] (0 or none: any free port). Prints {"issuer": "..."} once it listens; runs until
// killed. It signs with oidc-provider's development keys, which is what a test needs.
import http from 'node:http';
import Provider from 'oidc-provider';

const server = http.createServer();
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, { clients: [] });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
