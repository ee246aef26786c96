// The smallest app berth can deploy: an HTTP server on $PORT with a health endpoint.
// berth sets PORT, BERTH_APP and BERTH_RELEASE; everything else comes from `berth env set`.
import { createServer } from 'node:http';

const release = process.env.BERTH_RELEASE ?? 'dev';
const greeting = process.env.GREETING ?? 'Hello from berth';

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>hello</title><h1>${greeting}</h1><p>release ${release}</p>\n`);
});

// berth sets HOST: loopback for host processes (the proxy is the way in), all interfaces in a container.
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST, () => console.log(`hello ${release} listening on ${process.env.PORT}`));

// Finish requests in flight, then exit: berth sends SIGTERM when it retires this release.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
