// Drives the real @sentry/node SDK against a crashctl server.
// Usage: node sentry_node_client.js DSN
// Throws from two call sites: checkout() three times, loadProfile() once;
// each error is captured with Sentry.captureException, then flushed.
'use strict';
const Sentry = require('@sentry/node');

const dsn = process.argv[2];
if (!dsn) {
  console.error('usage: node sentry_node_client.js DSN');
  process.exit(2);
}

Sentry.init({
  dsn,
  release: 'shop@1.4.2',
  environment: 'test',
  serverName: 'checkout-7f8b4d-x2x9q',
  defaultIntegrations: false,
  tracesSampleRate: 0,
  initialScope: { tags: { service: 'checkout' } },
});

function checkout(orderId) {
  throw new TypeError(`order ${orderId} has no items`);
}

function loadProfile(userId) {
  throw new RangeError(`profile ${userId} out of range`);
}

function capture(fn, arg) {
  try {
    fn(arg);
  } catch (err) {
    Sentry.captureException(err);
  }
}

(async () => {
  for (const id of [101, 202, 303]) capture(checkout, id);
  capture(loadProfile, 42);
  const flushed = await Sentry.flush(10000);
  if (!flushed) {
    console.error('flush timed out');
    process.exit(1);
  }
  console.log('sent 4 events');
})();
