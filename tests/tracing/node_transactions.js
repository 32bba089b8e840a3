// Drives the real @sentry/node SDK (tracesSampleRate 1.0) to send
// transactions to DSN: a bare `http` server (transactions named by URL,
// source "url": one answered 200, one 500), and a routed handler
// (express is not among the test clients, so Sentry.startSpan with
// source "route", as a router integration names it) whose outgoing call
// to the bare server continues the trace there.
// Usage: NODE_PATH=tests/node_modules node node_transactions.js DSN
'use strict';
const Sentry = require('@sentry/node');

const dsn = process.argv[2];
if (!dsn) {
  console.error('usage: node node_transactions.js DSN');
  process.exit(2);
}
Sentry.init({
  dsn,
  tracesSampleRate: 1.0,
  release: 'shop@1.4.2',
  environment: 'test',
  initialScope: { tags: { service: 'orders' } },
});
// After init, so that the SDK instruments it.
const http = require('http');

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

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/fail/')) {
    res.statusCode = 500;
    res.end('failed');
    return;
  }
  Sentry.startSpan({ name: 'SELECT * FROM orders WHERE id = $1', op: 'db.query' }, () => {
    Sentry.startSpan({ name: 'decode row', op: 'serialize' }, () => {});
  });
  res.end('ok');
});

server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  try {
    await get(port, '/orders/42');
    await get(port, '/fail/7');
    await Sentry.startSpan(
      {
        name: 'GET /orders/:id',
        op: 'http.server',
        attributes: { 'sentry.source': 'route', 'http.request.method': 'GET' },
      },
      async () => {
        await Sentry.startSpan({ name: 'load order', op: 'db' }, async () => {
          await get(port, '/orders/43');
        });
        await Sentry.startSpan({ name: 'render', op: 'template.render' }, async (span) => {
          span.setStatus({ code: 2, message: 'deadline_exceeded' });
        });
      });
  } finally {
    server.close();
  }
  const flushed = await Sentry.flush(10000);
  if (!flushed) {
    console.error('flush timed out');
    process.exit(1);
  }
  console.log('sent');
});
