// An Express app that shares its sessions with the Flask app under test.
//
// express-session + connect-mongo, configured only from the environment so
// tests/test_interop_express.py can point it at the same SecantusDB
// collection, cookie name and secret as the Flask app:
//
//   PORT            port on 127.0.0.1 (0 = any free port; the ready line says which)
//   MONGO_URL       mongodb:// URI
//   DB_NAME         database name
//   COLLECTION      sessions collection (default "sessions")
//   SECRET          express-session secret (the Flask app's SESSION_SECRET)
//   STRINGIFY       "false" stores sessions as BSON sub-documents (connect-mongo's stringify)
//   CRYPTO_SECRET   optional: encrypt sessions at rest with createWebCryptoAdapter
//   TOUCH_AFTER     connect-mongo's touchAfter in seconds (default 0)
//   MAX_AGE_MS      cookie maxAge in milliseconds (default one hour)
//
// Once listening it prints one line on stdout:
//   {"ready":true,"port":<port>}
// It exits when its stdin closes, so it never outlives the test run.

'use strict';

const express = require('express');
const session = require('express-session');
const { MongoStore, createWebCryptoAdapter } = require('connect-mongo');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`app.js: the environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const storeOptions = {
  mongoUrl: required('MONGO_URL'),
  dbName: required('DB_NAME'),
  collectionName: process.env.COLLECTION || 'sessions',
  stringify: process.env.STRINGIFY !== 'false',
  touchAfter: Number(process.env.TOUCH_AFTER || 0),
  mongoOptions: { serverSelectionTimeoutMS: 5000 },
};
if (process.env.CRYPTO_SECRET) {
  storeOptions.cryptoAdapter = createWebCryptoAdapter({ secret: process.env.CRYPTO_SECRET });
}
const store = MongoStore.create(storeOptions);

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

// Log in: a fresh session ID (against session fixation), then the user.
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

// Every query parameter becomes a string value in the session.
app.get('/set', (req, res) => {
  for (const [key, value] of Object.entries(req.query)) req.session[key] = String(value);
  res.json(describe(req));
});

// /json?k=<JSON text> stores the parsed value under k (nested data, unicode...).
app.get('/json', (req, res) => {
  for (const [key, value] of Object.entries(req.query)) req.session[key] = JSON.parse(value);
  res.json(describe(req));
});

// /incr?k=n adds the number n to session[k] (a JSON number).
app.get('/incr', (req, res) => {
  for (const [key, value] of Object.entries(req.query)) {
    req.session[key] = (req.session[key] || 0) + Number(value);
  }
  res.json(describe(req));
});

app.get('/logout', (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.json({ ok: true });
  });
});

// Errors as JSON on the response and in full on stderr, for the test report.
app.use((err, req, res, next) => {
  console.error(err);
  res.status(500).json({ error: String(err && err.message ? err.message : err) });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: true, port: server.address().port }));
});

function shutdown() {
  server.close();
  store.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
