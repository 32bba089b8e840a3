// Sends cron check-ins with the real @sentry/node SDK: captureCheckIn with a
// crontab monitor config (in_progress, then ok with its id), and withMonitor
// with an interval schedule around a job that throws (error).
// Usage: node monitors_node_client.js DSN
'use strict';
const Sentry = require('@sentry/node');

const dsn = process.argv[2];
if (!dsn) {
  console.error('usage: node monitors_node_client.js DSN');
  process.exit(2);
}

Sentry.init({
  dsn,
  release: 'jobs@1.0.0',
  environment: 'production',
  tracesSampleRate: 0,
  integrations: (defaults) =>
    defaults.filter((i) => i.name !== 'ProcessSession'),
});

(async () => {
  const id = Sentry.captureCheckIn(
    { monitorSlug: 'node-nightly', status: 'in_progress' },
    {
      schedule: { type: 'crontab', value: '0 3 * * *' },
      checkinMargin: 5,
      maxRuntime: 30,
      timezone: 'Europe/Vienna',
    },
  );
  // The SDK sends envelopes concurrently: wait for the in_progress so the
  // ok arrives after it (as a real job's would).
  await Sentry.flush(10000);
  Sentry.captureCheckIn({
    checkInId: id,
    monitorSlug: 'node-nightly',
    status: 'ok',
    duration: 1.5,
  });
  try {
    Sentry.withMonitor(
      'node-hourly-sync',
      () => {
        throw new Error('sync failed');
      },
      { schedule: { type: 'interval', value: 2, unit: 'hour' } },
    );
  } catch (e) {
    // expected
  }
  const flushed = await Sentry.flush(10000);
  if (!flushed) {
    console.error('flush timed out');
    process.exit(1);
  }
  console.log('done');
})();
