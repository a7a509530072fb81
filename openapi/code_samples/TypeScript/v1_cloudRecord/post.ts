// Individual recording: one audio and one video file per user (the `individual` request example).
import { createClient } from 'cloudrec';

const client = createClient({ baseUrl: 'https://recording.example.com' });

const result = await client.startRecording({
  app_id: 'app-7f3c2a',
  project_id: 'proj-demo',
  channel: 'demo-room',
  sign_key: '3b7e9c0d5a1f4e28',
});

switch (result.kind) {
  case 'success':
    console.log('recording task', result.data.task_id);
    break;
  case 'api': // one of the spec's errors: branch on its code
    console.error(result.status, result.error.code, result.error.message);
    break;
  case 'unexpected-response': // an answer outside the spec, such as a proxy's error page
    console.error(result.status, result.text);
    break;
  default: // no answer: network, timeout or aborted
    console.error(result.kind, result.error.message, `after ${result.attempts} attempts`);
}
