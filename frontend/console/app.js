// The web console of iot-mqtt-server: served by the frontend on its wss/ws listeners
// (frontend/net/console_assets.hpp), it logs in with MQTT credentials and speaks MQTT 3.1.1
// over WebSocket with MQTT.js's browser build (/console/mqtt.min.js, the global `mqtt`).
// Plain JavaScript, no framework; page text is only ever set with textContent.
//
// Element ids are stable (tests/system/test_18_console.py relies on them):
//   body[data-ready]         set once the login URL has its default (config fetched)
//   #status                  connection state, one line
//   #logout                  ends the session (shown while connected)
//   #login                   the login section; #login-form with #login-username,
//                            #login-password, #login-url (default: this page's origin,
//                            wss: or ws:, + the listener's MQTT path from
//                            /console/config.json), #login-submit
//   #login-error             why the login failed: the CONNACK refusal as text, or the
//                            server could not be reached
//   #console                 everything below; shown while connected
//   #stat-clients-connected, #stat-messages-received, #stat-messages-sent,
//   #stat-subscriptions, #stat-retained, #stat-uptime
//                            headline numbers from $SYS/broker/... ("–" until known)
//   #sys-rows                every $SYS topic seen: <tr data-topic="$SYS/..."> with
//                            td.topic and td.value (its latest value)
//   #browse-form, #browse-filter, #browse-qos, #browse-subscribe, #browse-error
//   #subscriptions           <li data-filter="..." data-state="pending|subscribed|refused">
//                            with a button.unsubscribe
//   #messages                arriving messages, newest first, at most 500:
//                            <tr data-topic="..."> td.time, td.topic, td.qos, td.retain
//                            ("yes"/"no"), td.payload (UTF-8 text, else "hex: ...")
//   #messages-count, #messages-clear
//   #publish-form, #publish-topic, #publish-payload, #publish-qos, #publish-retain,
//   #publish-submit, #publish-result (outcome of the last publish)
'use strict';

(function () {
  const MAX_ROWS = 500;
  const MAX_PAYLOAD_CHARS = 4000;
  const SYS_FILTER = '$SYS/#';
  const HEADLINES = {
    '$SYS/broker/clients/connected': 'stat-clients-connected',
    '$SYS/broker/messages/received': 'stat-messages-received',
    '$SYS/broker/messages/sent': 'stat-messages-sent',
    '$SYS/broker/subscriptions/count': 'stat-subscriptions',
    '$SYS/broker/retained messages/count': 'stat-retained',
    '$SYS/broker/uptime': 'stat-uptime',
  };
  const REFUSALS = {
    1: 'unacceptable protocol version',
    2: 'client identifier rejected',
    3: 'server unavailable',
    4: 'bad user name or password',
    5: 'not authorized',
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'),
    logout: $('logout'),
    login: $('login'),
    loginForm: $('login-form'),
    username: $('login-username'),
    password: $('login-password'),
    url: $('login-url'),
    loginSubmit: $('login-submit'),
    loginError: $('login-error'),
    console: $('console'),
    sysRows: $('sys-rows'),
    browseForm: $('browse-form'),
    browseFilter: $('browse-filter'),
    browseQos: $('browse-qos'),
    browseError: $('browse-error'),
    subscriptions: $('subscriptions'),
    messages: $('messages'),
    messagesCount: $('messages-count'),
    messagesClear: $('messages-clear'),
    publishForm: $('publish-form'),
    publishTopic: $('publish-topic'),
    publishPayload: $('publish-payload'),
    publishQos: $('publish-qos'),
    publishRetain: $('publish-retain'),
    publishResult: $('publish-result'),
  };

  let client = null; // the MQTT.js client of the current session
  let loggedIn = false;
  const filters = new Map(); // topic browser filter -> its <li>
  const sysRows = new Map(); // $SYS topic -> its value cell
  let messageCount = 0;

  // --- helpers ---------------------------------------------------------------------------

  function randomId() {
    const bytes = new Uint8Array(6);
    crypto.getRandomValues(bytes);
    return 'console-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function show(el, text) {
    el.textContent = text;
    el.hidden = !text;
  }

  // MQTT 3.1.1 section 4.7: '+' matches one level, '#' the rest; topics starting with '$'
  // are not matched by a filter starting with a wildcard.
  function matches(filter, topic) {
    if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
    const f = filter.split('/');
    const t = topic.split('/');
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '#') return true;
      if (i >= t.length) return false;
      if (f[i] !== '+' && f[i] !== t[i]) return false;
    }
    return f.length === t.length;
  }

  const utf8 = new TextDecoder('utf-8', {fatal: true});
  function payloadText(payload) {
    let text;
    try {
      text = utf8.decode(payload);
    } catch (e) {
      text = 'hex: ' + Array.from(payload, (b) => b.toString(16).padStart(2, '0')).join(' ');
    }
    return text.length > MAX_PAYLOAD_CHARS ? text.slice(0, MAX_PAYLOAD_CHARS) + '…' : text;
  }

  function formatUptime(value) {
    const seconds = parseInt(value, 10);
    if (!Number.isFinite(seconds)) return value;
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + s + 's';
  }

  function cell(row, className, text) {
    const td = document.createElement('td');
    td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  // --- session ---------------------------------------------------------------------------

  function setConnected(connected) {
    loggedIn = connected;
    ui.console.hidden = !connected;
    ui.logout.hidden = !connected;
    ui.login.hidden = connected;
    ui.loginSubmit.disabled = false;
  }

  function resetPanels() {
    filters.clear();
    ui.subscriptions.replaceChildren();
    sysRows.clear();
    ui.sysRows.replaceChildren();
    for (const id of Object.values(HEADLINES)) $(id).textContent = '–';
    show(ui.browseError, '');
    ui.publishResult.textContent = '';
  }

  function login(event) {
    event.preventDefault();
    if (client) client.end(true);
    show(ui.loginError, '');
    ui.loginSubmit.disabled = true;
    const url = ui.url.value.trim();
    ui.status.textContent = 'Connecting to ' + url + '…';
    let refusal = ''; // set by 'error' before 'close'
    let c;
    try {
      c = mqtt.connect(url, {
        protocolVersion: 4,
        clean: true,
        clientId: randomId(),
        username: ui.username.value,
        password: ui.password.value,
        reconnectPeriod: 0,
        connectTimeout: 10000,
        keepalive: 30,
        // Keep-alive on the page's own timers: the default ("auto") starts a Worker from a
        // blob: URL, which the console's Content-Security-Policy (script-src 'self') forbids.
        timerVariant: 'native',
      });
    } catch (e) {
      ui.loginSubmit.disabled = false;
      ui.status.textContent = 'Not connected';
      show(ui.loginError, 'Cannot connect: ' + (e.message || e));
      return;
    }
    client = c;
    c.on('connect', () => {
      if (c !== client) return;
      resetPanels();
      setConnected(true);
      ui.password.value = '';
      ui.status.textContent = 'Connected to ' + url + ' as ' + (ui.username.value || '(no user)');
      c.subscribe(SYS_FILTER, {qos: 0}, (err) => {
        if (err) show(ui.browseError, 'Cannot subscribe to ' + SYS_FILTER + ': ' + err.message);
      });
    });
    c.on('message', (topic, payload, packet) => {
      if (c === client) onMessage(topic, payload, packet);
    });
    c.on('error', (err) => {
      if (c !== client) return;
      const code = err && err.code;
      refusal = REFUSALS[code]
        ? 'Login refused: ' + REFUSALS[code] + ' (CONNACK return code ' + code + ')'
        : 'Error: ' + ((err && err.message) || err);
    });
    c.on('close', () => {
      if (c !== client) return;
      client = null;
      c.end(true);
      const wasLoggedIn = loggedIn;
      setConnected(false);
      ui.status.textContent = 'Not connected';
      if (wasLoggedIn) {
        show(ui.loginError, refusal || 'The connection to ' + url + ' was closed.');
      } else {
        show(ui.loginError, refusal ||
            'Could not connect to ' + url + ' (server unreachable, or its certificate is not trusted).');
      }
    });
  }

  function logout() {
    const c = client;
    client = null;
    if (c) c.end();
    setConnected(false);
    ui.status.textContent = 'Logged out';
  }

  // --- $SYS numbers ----------------------------------------------------------------------

  function onSys(topic, value) {
    let valueCell = sysRows.get(topic);
    if (!valueCell) {
      const row = document.createElement('tr');
      row.dataset.topic = topic;
      cell(row, 'topic', topic);
      valueCell = cell(row, 'value', '');
      sysRows.set(topic, valueCell);
      const next = Array.from(ui.sysRows.children).find((r) => r.dataset.topic > topic);
      ui.sysRows.insertBefore(row, next || null);
    }
    valueCell.textContent = value;
    const headline = HEADLINES[topic];
    if (headline) $(headline).textContent = topic === '$SYS/broker/uptime' ? formatUptime(value) : value;
  }

  // --- topic browser ---------------------------------------------------------------------

  function onMessage(topic, payload, packet) {
    if (topic.startsWith('$SYS/')) onSys(topic, payloadText(payload));
    let shown = false;
    for (const filter of filters.keys()) shown = shown || matches(filter, topic);
    if (!shown) return;
    const row = document.createElement('tr');
    row.dataset.topic = topic;
    cell(row, 'time', new Date().toLocaleTimeString());
    cell(row, 'topic', topic);
    cell(row, 'qos', String(packet.qos));
    cell(row, 'retain', packet.retain ? 'yes' : 'no');
    cell(row, 'payload', payloadText(payload));
    ui.messages.insertBefore(row, ui.messages.firstChild);
    while (ui.messages.children.length > MAX_ROWS) ui.messages.lastChild.remove();
    messageCount++;
    updateCount();
  }

  function updateCount() {
    const shown = ui.messages.children.length;
    ui.messagesCount.textContent = messageCount + (messageCount === 1 ? ' message' : ' messages') +
        (shown < messageCount ? ' (latest ' + shown + ' shown)' : '');
  }

  function subscribe(event) {
    event.preventDefault();
    show(ui.browseError, '');
    const filter = ui.browseFilter.value.trim();
    const qos = Number(ui.browseQos.value);
    if (!client || !filter) return;
    if (filters.has(filter)) {
      show(ui.browseError, 'Already subscribed to ' + filter);
      return;
    }
    const li = document.createElement('li');
    li.dataset.filter = filter;
    li.dataset.state = 'pending';
    const label = document.createElement('span');
    label.textContent = filter + ' (QoS ' + qos + ')';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'unsubscribe secondary';
    button.textContent = 'Unsubscribe';
    button.setAttribute('aria-label', 'Unsubscribe from ' + filter);
    button.addEventListener('click', () => unsubscribe(filter));
    li.append(label, button);
    ui.subscriptions.appendChild(li);
    filters.set(filter, li);
    client.subscribe(filter, {qos}, (err, granted) => {
      if (filters.get(filter) !== li) return;
      const refused = err || !granted || !granted.length || granted[0].qos === 128;
      li.dataset.state = refused ? 'refused' : 'subscribed';
      if (refused) {
        label.textContent = filter + ' (refused)';
        show(ui.browseError, 'Subscription to ' + filter + ' refused' + (err ? ': ' + err.message : ''));
      } else {
        label.textContent = filter + ' (QoS ' + granted[0].qos + ')';
      }
    });
  }

  function unsubscribe(filter) {
    const li = filters.get(filter);
    if (!li) return;
    filters.delete(filter);
    li.remove();
    // The numbers panel keeps its own $SYS/# subscription.
    if (client && filter !== SYS_FILTER) client.unsubscribe(filter);
  }

  function clearMessages() {
    ui.messages.replaceChildren();
    messageCount = 0;
    updateCount();
  }

  // --- publish ---------------------------------------------------------------------------

  function publish(event) {
    event.preventDefault();
    const topic = ui.publishTopic.value;
    const qos = Number(ui.publishQos.value);
    const retain = ui.publishRetain.checked;
    ui.publishResult.className = '';
    if (!client) return;
    if (!topic || topic.includes('+') || topic.includes('#')) {
      ui.publishResult.className = 'error';
      ui.publishResult.textContent = 'A topic name is needed, without + or #.';
      return;
    }
    ui.publishResult.textContent = 'Publishing…';
    client.publish(topic, ui.publishPayload.value, {qos, retain}, (err) => {
      ui.publishResult.className = err ? 'error' : 'ok';
      ui.publishResult.textContent = err
        ? 'Not published: ' + err.message
        : 'Published to ' + topic + ' (QoS ' + qos + (retain ? ', retained' : '') + ') at ' +
          new Date().toLocaleTimeString();
    });
  }

  // --- start -----------------------------------------------------------------------------

  function defaultUrl(path) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
  }

  ui.url.value = defaultUrl('/mqtt');
  fetch('/console/config.json', {cache: 'no-store'})
    .then((r) => (r.ok ? r.json() : null))
    .then((config) => {
      if (config && typeof config.mqttPath === 'string' && !loggedIn && !client)
        ui.url.value = defaultUrl(config.mqttPath);
    })
    .catch(() => {}) // keep /mqtt
    .finally(() => {
      document.body.dataset.ready = 'true';
    });

  ui.loginForm.addEventListener('submit', login);
  ui.logout.addEventListener('click', logout);
  ui.browseForm.addEventListener('submit', subscribe);
  ui.messagesClear.addEventListener('click', clearMessages);
  ui.publishForm.addEventListener('submit', publish);
  updateCount();
  if (typeof mqtt === 'undefined') show(ui.loginError, 'MQTT.js did not load (/console/mqtt.min.js).');
})();
