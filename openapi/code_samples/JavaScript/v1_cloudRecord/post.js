// Individual recording: one audio and one video file per user (the `individual` request example).
const response = await fetch('https://recording.example.com/v1/cloudRecord', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    app_id: 'app-7f3c2a',
    project_id: 'proj-demo',
    channel: 'demo-room',
    sign_key: '3b7e9c0d5a1f4e28',
  }),
});
const body = await response.json();
if (response.ok) console.log('recording task', body.task_id);
else console.error(response.status, body.code, body.message, response.headers.get('x-request-id'));
