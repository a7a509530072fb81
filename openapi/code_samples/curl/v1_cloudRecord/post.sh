# Individual recording: one audio and one video file per user (the `individual` request example).
curl -X POST 'https://recording.example.com/v1/cloudRecord' \
  -H 'Content-Type: application/json' \
  -d '{
    "app_id": "app-7f3c2a",
    "project_id": "proj-demo",
    "channel": "demo-room",
    "sign_key": "3b7e9c0d5a1f4e28"
  }'
