// Signs session IDs the way express-session does, for the byte-exact test.
//
// Reads a JSON array of {sid, secret} from stdin and writes a JSON array of
// {signed, cookie, signed_nested, unsigned} to stdout:
//   signed         's:' + cookie-signature.sign(sid, secret) (the top-level package)
//   signed_nested  the same with express-session's own copy of cookie-signature
//   cookie         encodeURIComponent(signed), the Set-Cookie value
//   unsigned       cookie-signature.unsign(python, secret) of the entry's
//                  "python" value (the Flask side's signed value), or false

'use strict';

const path = require('path');
const signature = require('cookie-signature');

// express-session pins an older cookie-signature and may keep its own copy.
let nested = signature;
try {
  const sessionDir = path.dirname(require.resolve('express-session'));
  nested = require(require.resolve('cookie-signature', { paths: [sessionDir] }));
} catch (err) {
  // Deduplicated to the top-level copy: both are the same module.
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const results = JSON.parse(input).map(({ sid, secret, python }) => {
    const signed = 's:' + signature.sign(sid, secret);
    return {
      signed,
      signed_nested: 's:' + nested.sign(sid, secret),
      cookie: encodeURIComponent(signed),
      unsigned: python && python.startsWith('s:') ? nested.unsign(python.slice(2), secret) : false,
    };
  });
  process.stdout.write(JSON.stringify(results));
});
