// MQTT.js (npm "mqtt") over wss://, driven by tests/system/test_14_websocket.py.
//
// Connects to URL with the test CA (certificate verified), subscribes to
// SUB_TOPIC (QoS 1), publishes PAYLOAD to PUB_TOPIC (QoS 1), then waits up
// to WAIT_MS for one message on SUB_TOPIC. Prints one JSON object per line
// on stdout: {"event":"connected"}, {"event":"subscribed","granted":[..]},
// {"event":"published"}, {"event":"message","topic":..,"payload":..},
// {"event":"done"} or {"event":"error","message":..}; exits 0 after "done".
//
// usage: node wss_pubsub.js URL CA_FILE USERNAME PASSWORD SUB_TOPIC PUB_TOPIC PAYLOAD [WAIT_MS]
'use strict';

const fs = require('fs');
const mqtt = require('mqtt');

const [url, caFile, username, password, subTopic, pubTopic, payload, waitArg] =
    process.argv.slice(2);
const waitMs = Number(waitArg || 10000);

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fail(message) {
  say({event: 'error', message: String(message)});
  process.exit(1);
}

const client = mqtt.connect(url, {
  ca: fs.readFileSync(caFile),
  rejectUnauthorized: true,
  username,
  password,
  protocolVersion: 4,
  clientId: 'mqttjs-' + process.pid,
  clean: true,
  reconnectPeriod: 0,
  connectTimeout: 5000,
});

const timer = setTimeout(() => fail(`no message on ${subTopic} within ${waitMs} ms`), waitMs);

client.on('error', (err) => fail(err.message || err));
client.on('close', () => {
  if (!finished) fail('connection closed');
});

let finished = false;

client.on('connect', () => {
  say({event: 'connected'});
  client.subscribe(subTopic, {qos: 1}, (err, granted) => {
    if (err) return fail(err.message);
    say({event: 'subscribed', granted: granted.map((g) => g.qos)});
    client.publish(pubTopic, payload, {qos: 1}, (err2) => {
      if (err2) return fail(err2.message);
      say({event: 'published'});
    });
  });
});

client.on('message', (topic, message) => {
  say({event: 'message', topic, payload: message.toString('utf8')});
  clearTimeout(timer);
  finished = true;
  client.end(false, () => {
    say({event: 'done'});
    process.exit(0);
  });
});
