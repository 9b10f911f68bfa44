// An Express app that shares its sessions with the Flask app under test, over Redis.
//
// app.js's twin with express-session + connect-redis + the `redis` client,
// configured only from the environment so tests/test_interop_redis.py can
// point it at the same redis-server, prefix, cookie name and secret as the
// Flask app:
//
//   PORT        port on 127.0.0.1 (0 = any free port; the ready line says which)
//   REDIS_URL   redis:// URL
//   PREFIX      connect-redis's prefix (default "sess:")
//   SECRET      express-session secret (the Flask app's SESSION_SECRET)
//   MAX_AGE_MS  cookie maxAge in milliseconds (default one hour)
//
// Once listening it prints one line on stdout:
//   {"ready":true,"port":<port>}
// It exits when its stdin closes, so it never outlives the test run.

'use strict';

const express = require('express');
const session = require('express-session');
const { RedisStore } = require('connect-redis');
const { createClient } = require('redis');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`app_redis.js: the environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const client = createClient({ url: required('REDIS_URL') });
client.on('error', (err) => console.error('redis client error', err));

const store = new RedisStore({ client, prefix: process.env.PREFIX || 'sess:' });

const app = express();
app.use(
  session({
    name: 'connect.sid',
    secret: required('SECRET'),
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: Number(process.env.MAX_AGE_MS || 3600000) },
  }),
);

// The session's data without its cookie, as the Flask app's /whoami shows it.
function describe(req) {
  const { cookie, ...data } = req.session;
  return { id: req.sessionID, data, expires: cookie.expires };
}

app.get('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = String(req.query.user);
    res.json(describe(req));
  });
});

app.get('/whoami', (req, res) => {
  res.json(describe(req));
});

app.get('/set', (req, res) => {
  for (const [key, value] of Object.entries(req.query)) req.session[key] = String(value);
  res.json(describe(req));
});

// /json?k=<JSON text> stores the parsed value under k (nested data, unicode...).
app.get('/json', (req, res) => {
  for (const [key, value] of Object.entries(req.query)) req.session[key] = JSON.parse(value);
  res.json(describe(req));
});

app.get('/incr', (req, res) => {
  for (const [key, value] of Object.entries(req.query)) {
    req.session[key] = (req.session[key] || 0) + Number(value);
  }
  res.json(describe(req));
});

app.get('/regenerate', (req, res, next) => {
  const data = { ...req.session };
  delete data.cookie;
  req.session.regenerate((err) => {
    if (err) return next(err);
    Object.assign(req.session, data);
    res.json(describe(req));
  });
});

app.get('/logout', (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.json({ ok: true });
  });
});

// connect-redis's own listing calls, for the test to compare with RedisStore's.
app.get('/store/length', (req, res, next) => {
  store.length((err, n) => (err ? next(err) : res.json({ length: n })));
});
app.get('/store/ids', (req, res, next) => {
  store.ids((err, ids) => (err ? next(err) : res.json({ ids: ids.sort() })));
});
app.get('/store/all', (req, res, next) => {
  store.all((err, all) => (err ? next(err) : res.json({ ids: all.map((s) => s.id).sort() })));
});

app.use((err, req, res, next) => {
  console.error(err);
  res.status(500).json({ error: String(err && err.message ? err.message : err) });
});

let server;
client.connect().then(() => {
  server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    console.log(JSON.stringify({ ready: true, port: server.address().port }));
  });
});

function shutdown() {
  if (server) server.close();
  client.quit().catch(() => {}).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
