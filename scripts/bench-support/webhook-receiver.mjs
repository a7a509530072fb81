// A webhook receiver for the bench, in a process of its own: `answer` answers each event 204,
// `hang` never answers (a receiver that is gone but keeps its port). GET /count says how many
// events arrived.
import { createServer } from 'node:http';

const mode = process.argv[2] ?? 'answer';
let received = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received }));
  req.resume();
  req.on('end', () => {
    received += 1;
    if (mode === 'answer') res.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
