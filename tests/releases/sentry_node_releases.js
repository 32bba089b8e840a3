// Drives the real @sentry/node SDK to send the envelope items of release
// health and crons: session updates (startSession / captureException /
// endSession, and an unhandled-style crash), request-mode `sessions`
// aggregates (the SDK's http server instrumentation), a client report (an
// event dropped in beforeSend) and check-ins with a monitor config
// (captureCheckIn, withMonitor).
// Usage: node sentry_node_releases.js DSN
// Everything goes to DSN over HTTP (a loopback listener of the test).
'use strict';
const Sentry = require('@sentry/node');

const dsn = process.argv[2];
if (!dsn) {
  console.error('usage: node sentry_node_releases.js DSN');
  process.exit(2);
}

Sentry.init({
  dsn,
  release: 'shop@2.0.1',
  environment: 'staging',
  tracesSampleRate: 0,
  sendClientReports: true,
  // Keep the process-wide session out of it: the script starts its own.
  integrations: (defaults) =>
    defaults.filter((i) => i.name !== 'ProcessSession'),
  beforeSend(event) {
    if (event.message === 'drop me') return null;  // -> client report
    return event;
  },
});

const http = require('http');

async function requestSessions() {
  // Request-mode sessions: every request the instrumented server handles is
  // aggregated into a `sessions` item, sent on flush.
  const server = http.createServer((req, res) => {
    if (req.url === '/fail') {
      Sentry.captureException(new Error('request failed'));
      res.statusCode = 500;
    }
    res.end('ok');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  const get = (path) =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  for (const path of ['/a', '/b', '/fail', '/c']) await get(path);
  await new Promise((resolve) => server.close(resolve));
}

(async () => {
  // 1. A session that ends cleanly after one handled error: errored.
  Sentry.setUser({ id: 'user-7' });
  Sentry.startSession();
  Sentry.captureSession();  // the initial update, init: true
  Sentry.captureException(new Error('handled failure'));
  // Events are processed asynchronously: let this one reach the session
  // (errors: 1) before the session ends.
  await Sentry.flush(10000);
  Sentry.endSession();

  // 2. A session that crashes (an unhandled error).
  Sentry.setUser({ id: 'user-8' });
  Sentry.startSession();
  Sentry.captureException(new Error('fatal failure'), {
    mechanism: { handled: false, type: 'onuncaughtexception' },
  });
  await Sentry.flush(10000);
  Sentry.endSession();

  // 3. A dropped event: a client report with reason before_send.
  Sentry.captureMessage('drop me');

  // 4. Check-ins: crontab monitor config, in_progress then ok.
  const id = Sentry.captureCheckIn(
    { monitorSlug: 'nightly-backup', status: 'in_progress' },
    {
      schedule: { type: 'crontab', value: '0 3 * * *' },
      checkinMargin: 5,
      maxRuntime: 30,
      timezone: 'Europe/Vienna',
      failureIssueThreshold: 2,
      recoveryThreshold: 1,
    },
  );
  Sentry.captureCheckIn({
    checkInId: id,
    monitorSlug: 'nightly-backup',
    status: 'ok',
    duration: 1.5,
  });
  // 5. withMonitor, interval schedule, failing job.
  try {
    Sentry.withMonitor(
      'hourly-sync',
      () => {
        throw new Error('sync failed');
      },
      { schedule: { type: 'interval', value: 2, unit: 'hour' } },
    );
  } catch (e) {
    // expected
  }

  await requestSessions();

  const flushed = await Sentry.flush(10000);
  if (!flushed) {
    console.error('flush timed out');
    process.exit(1);
  }
  console.log('done');
})();
