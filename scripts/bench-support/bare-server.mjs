// A bare node:http server answering every request with the API's success body, in a process of
// its own: the other end of the client benchmark, so both clients meet the same server.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const answer = JSON.stringify({ code: 'success', task_id: 40 });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': randomUUID() }).end(answer));
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
