// Drives the real @sentry/node SDK (tracesSampleRate 1.0) with two real
// servers in this process, then sends their transactions to DSN:
//  * an express app (express instrumentation names transactions by route,
//    source "route"): GET /products/:id answers after >= 30 ms with a
//    db.query span; GET /checkout/:cart answers 500;
//  * a bare `http` server: transactions named by URL (source "url"), which
//    crashctl folds into "<< unparameterized >>" in the metrics.
// Requests: 5 x /products/N, 2 x /checkout/C, 3 x /legacy/item-N.
// Usage: NODE_PATH=tests/node_modules node transactions_node_server.js DSN
'use strict';
const Sentry = require('@sentry/node');

const dsn = process.argv[2];
if (!dsn) {
  console.error('usage: node transactions_node_server.js DSN');
  process.exit(2);
}
Sentry.init({
  dsn,
  tracesSampleRate: 1.0,
  release: 'storefront@2.0.0',
  environment: 'test',
  initialScope: { tags: { service: 'storefront' } },
});
// After init, so that the SDK instruments them.
const http = require('http');
const express = require('express');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const app = express();
app.get('/products/:id', async (req, res) => {
  await sleep(30);
  await Sentry.startSpan({ name: 'SELECT * FROM products WHERE id = $1', op: 'db.query' },
    () => sleep(5));
  res.json({ id: req.params.id });
});
app.get('/checkout/:cart', (req, res) => {
  res.status(500).json({ error: 'payment backend down' });
});

const bare = http.createServer(async (req, res) => {
  await sleep(30);
  res.end('legacy');
});

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

(async () => {
  const appServer = http.createServer(app);
  const appPort = await listen(appServer);
  const barePort = await listen(bare);
  const statuses = [];
  try {
    for (let i = 1; i <= 5; i++) statuses.push(await get(appPort, `/products/${i}`));
    for (const cart of ['a', 'b']) statuses.push(await get(appPort, `/checkout/${cart}`));
    for (let i = 1; i <= 3; i++) statuses.push(await get(barePort, `/legacy/item-${i}`));
  } finally {
    appServer.close();
    bare.close();
  }
  const flushed = await Sentry.flush(10000);
  if (!flushed) {
    console.error('flush timed out');
    process.exit(1);
  }
  console.log(`sent ${statuses.join(',')}`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
