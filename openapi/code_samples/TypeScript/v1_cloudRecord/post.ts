import { createClient } from 'cloudrec';

const client = createClient({ baseUrl: 'http://127.0.0.1:8787' });

const result = await client.startRecording({
  app_id: 'app-7f3c2a',
  project_id: 'proj-demo',
  channel: 'demo-room',
  sign_key: '3b7e9c0d5a1f4e28',
  is_mixing_enabled: 1,
  layout_mode: 1,
});

if (result.ok) {
  console.log('recording task', result.data.task_id);
} else if (result.kind === 'api') {
  console.error(result.status, result.error.code, result.error.message);
} else {
  console.error('request failed:', result.error.message);
}
