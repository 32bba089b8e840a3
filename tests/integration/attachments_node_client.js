// Drives the real @sentry/node (10.x) against a crashctl server: an error
// event with a scope attachment (text) and one passed with the capture
// (binary, every byte value), then user feedback about it
// (Sentry.captureFeedback: a `feedback` envelope item).
//
// Usage: node attachments_node_client.js DSN   (NODE_PATH = tests/node_modules)
// Prints "event_id=<id>" on success.
'use strict';
const Sentry = require('@sentry/node');

const dsn = process.argv[2];
if (!dsn) {
  console.error('usage: attachments_node_client.js DSN');
  process.exit(2);
}

Sentry.init({dsn, release: 'shop@2.0.0', defaultIntegrations: false});

const binary = Buffer.alloc(2048);
for (let i = 0; i < binary.length; i++) binary[i] = i % 256;

(async () => {
  Sentry.getCurrentScope().addAttachment(
      {filename: 'node.log', data: 'hello from node\n', contentType: 'text/plain'});
  const eventId = Sentry.captureException(new Error('cart exploded'), {
    attachments: [{filename: 'cart.bin', data: new Uint8Array(binary)}],
  });
  Sentry.captureFeedback({
    message: 'my cart is gone',
    name: 'Bo',
    email: 'bo@example.com',
    url: 'https://shop.example/cart',
    associatedEventId: eventId,
  });
  const ok = await Sentry.flush(10000);
  if (!ok) {
    console.error('flush timed out');
    process.exit(1);
  }
  console.log('event_id=' + eventId);
})();
