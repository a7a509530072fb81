// The load generator, in a process of its own (so it never shares a core's time with the server
// it measures): autocannon against one URL for a while, then one line of JSON on stdout.
//   node load.mjs '{"url":…,"connections":50,"seconds":8,"body":"…","newChannels":"prefix"}'
// With newChannels, each request's body gets the next channel `<prefix><n>`: a new task each time.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]);
let next = options.firstChannel ?? 0;
const request = {
  method: 'POST',
  path: new URL(options.url).pathname,
  headers: { 'content-type': 'application/json' },
  body: options.body,
  ...(options.newChannels && {
    setupRequest: (req) => ({ ...req, body: JSON.stringify({ ...JSON.parse(options.body), channel: `${options.newChannels}${next++}` }) }),
  }),
};
const result = await autocannon({
  url: new URL(options.url).origin,
  connections: options.connections,
  duration: options.seconds,
  requests: [request],
});
const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]));
console.log(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    statuses,
  }),
);
