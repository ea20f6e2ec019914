// Node https (its bundled OpenSSL is out of the shim's reach): N calls to
// api.openai.com (or HOST) through the local server. usage: PORT CA BODY N [HOST]
import https from 'node:https';
import fs from 'node:fs';
const [port, ca, body, n, host = 'api.openai.com'] = process.argv.slice(2);
const lookup = (host, opts, cb) => opts && opts.all ? cb(null, [{address: '127.0.0.1', family: 4}]) : cb(null, '127.0.0.1', 4);
async function call() {
  return new Promise((resolve, reject) => {
    const req = https.request({host, port: Number(port), path: '/v1/chat/completions', method: 'POST',
      ca: fs.readFileSync(ca), lookup, agent: false, headers: {'content-type': 'application/json', authorization: 'Bearer sk-node-opaque-0123456789'}},
      res => { let d = ''; res.on('data', c => d += c); res.on('end', () => resolve(res.statusCode + ' ' + d.length)); });
    req.on('error', reject); req.end(fs.readFileSync(body));
  });
}
for (let i = 0; i < Number(n); i++) console.log(await call());
