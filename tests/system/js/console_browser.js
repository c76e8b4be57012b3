// Headless Chromium (Debian's /usr/bin/chromium) driven by puppeteer-core for the web console
// tests (tests/system/test_18_console.py), as a line-based JSON server on stdin/stdout.
//
// usage: node console_browser.js CHROMIUM USER_DATA_DIR
//
// Prints {"event":"launched","pid":N,"version":".."} once Chromium runs (pid: the browser
// process, the leader of its own process group, for the caller to kill if this script dies).
// Then reads one command per line, {"id":N,"op":..,...}, and answers each in order with
// {"id":N,"ok":true,"result":..} or {"id":N,"ok":false,"error":".."}:
//   open {url}                 a new page (the previous one is closed), loaded; result: HTTP status
//   fill {selector,value}      sets an input's value (and fires "input")
//   select {selector,value}    chooses a <select> option
//   check {selector,checked}   sets a checkbox
//   click {selector}
//   text {selector}            {"text":..,"visible":bool} or null when absent
//   value {selector}           an input's value
//   rows {selector}            for each match: {"data":{dataset},"cells":{td class: text}}
//   screenshot {path}          a PNG of the page
//   log                        {"console":[..],"errors":[..],"blocked":[..]} since `open`
//   quit                       closes Chromium and exits
//
// The browser talks to 127.0.0.1 only: every host name resolves to nothing
// (--host-resolver-rules), background services are off, and the page's requests to any
// other host are aborted and reported in `blocked`.
'use strict';

const readline = require('readline');
const puppeteer = require('puppeteer-core');

const [executablePath, userDataDir] = process.argv.slice(2);

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let browser = null;
let page = null;
let log = {console: [], errors: [], blocked: []};

function loopbackOnly(request) {
  let url;
  try {
    url = new URL(request.url());
  } catch (e) {
    url = null;
  }
  if (url && (url.protocol === 'data:' || url.hostname === '127.0.0.1')) {
    request.continue();
  } else {
    log.blocked.push(request.url());
    request.abort('blockedbyclient');
  }
}

async function open(url) {
  if (page) await page.close();
  log = {console: [], errors: [], blocked: []};
  page = await browser.newPage();
  await page.setRequestInterception(true);
  page.on('request', loopbackOnly);
  page.on('console', (m) => log.console.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => log.errors.push(String(e && e.message ? e.message : e)));
  const response = await page.goto(url, {waitUntil: 'load', timeout: 15000});
  return response ? response.status() : null;
}

function current() {
  if (!page) throw new Error('no page: open one first');
  return page;
}

const ops = {
  open: (c) => open(c.url),
  fill: (c) =>
    current().$eval(c.selector, (el, value) => {
      el.value = value;
      el.dispatchEvent(new Event('input', {bubbles: true}));
    }, c.value),
  select: (c) => current().select(c.selector, c.value),
  check: (c) =>
    current().$eval(c.selector, (el, checked) => {
      el.checked = checked;
      el.dispatchEvent(new Event('change', {bubbles: true}));
    }, c.checked),
  click: (c) => current().click(c.selector),
  text: (c) =>
    current().evaluate((selector) => {
      const el = document.querySelector(selector);
      if (!el) return null;
      return {text: el.textContent, visible: !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)};
    }, c.selector),
  value: (c) => current().$eval(c.selector, (el) => el.value),
  rows: (c) =>
    current().evaluate((selector) => Array.from(document.querySelectorAll(selector), (row) => {
      const cells = {};
      for (const td of row.querySelectorAll('td')) cells[td.className] = td.textContent;
      return {data: Object.assign({}, row.dataset), cells};
    }), c.selector),
  screenshot: async (c) => {
    await current().screenshot({path: c.path, fullPage: true});
    return c.path;
  },
  log: async () => log,
  quit: async () => {
    await browser.close();
    browser = null;
    return true;
  },
};

async function main() {
  browser = await puppeteer.launch({
    executablePath,
    headless: true, // --headless=new
    userDataDir,
    pipe: true, // DevTools over a pipe: no debugging port
    acceptInsecureCerts: true,
    args: [
      '--no-sandbox',
      '--ignore-certificate-errors',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      '--no-proxy-server',
      '--disable-component-update',
      '--disable-domain-reliability',
      '--no-pings',
      '--no-default-browser-check',
    ],
  });
  say({event: 'launched', pid: browser.process().pid, version: await browser.version()});

  const lines = readline.createInterface({input: process.stdin});
  for await (const line of lines) {
    if (!line.trim()) continue;
    let command;
    try {
      command = JSON.parse(line);
    } catch (e) {
      say({id: null, ok: false, error: 'not JSON: ' + line});
      continue;
    }
    const op = ops[command.op];
    try {
      if (!op) throw new Error('unknown op ' + command.op);
      const result = await op(command);
      say({id: command.id, ok: true, result: result === undefined ? null : result});
    } catch (e) {
      say({id: command.id, ok: false, error: String(e && e.message ? e.message : e)});
    }
    if (command.op === 'quit' && !browser) break;
  }
  if (browser) await browser.close();
  process.exit(0);
}

main().catch((e) => {
  say({event: 'error', message: String(e && e.stack ? e.stack : e)});
  if (browser) browser.close().catch(() => {});
  process.exit(1);
});
