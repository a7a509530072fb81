import { assertType, expectTypeOf, test } from 'vitest';
// Imported by the package's own name, through its `exports`, as a user would.
import { createClient, type StartRecordingResult } from 'cloudrec';
import type { ErrorCode, StartRecordingRequest, components } from 'cloudrec/types';

const client = createClient({ baseUrl: 'http://127.0.0.1:8787' });
const required = { app_id: 'a', project_id: 'p', channel: 'c', sign_key: 'k' } as const;

test('a call the spec does not allow is a compile error', () => {
  // @ts-expect-error an unknown field (a typo of isAudioOnly)
  void client.startRecording({ ...required, isAudioonly: 1 });
  // @ts-expect-error layout_mode 3 is not in the enum
  void client.startRecording({ ...required, layout_mode: 3 });
  // @ts-expect-error channel is required
  void client.startRecording({ app_id: 'a', project_id: 'p', sign_key: 'k' });
  // @ts-expect-error integers are numbers, not strings
  void client.startRecording({ ...required, isAudioOnly: '1' });
  // @ts-expect-error mixed_video_audio takes 0, 1 or 2
  void client.startRecording({ ...required, mixed_video_audio: 5 });
  // @ts-expect-error audioProfile takes 0, 1 or 2
  void client.startRecording({ ...required, audioProfile: 3 });
});

test('a call the spec allows compiles, optional fields left out', () => {
  assertType<Promise<StartRecordingResult>>(client.startRecording(required));
  assertType<StartRecordingRequest>({ ...required, is_mixing_enabled: 1, layout_mode: 2, mixResolution: '640,360,15,500' });
});

test('results narrow to the spec types', async () => {
  const result = await client.startRecording(required);
  if (result.ok) {
    expectTypeOf(result.data.task_id).toEqualTypeOf<number>();
    expectTypeOf(result.data.code).toEqualTypeOf<'success'>();
  } else if (result.kind === 'api') {
    expectTypeOf(result.error.code).toEqualTypeOf<ErrorCode>();
    expectTypeOf(result.error.code).toEqualTypeOf<components['schemas']['ErrorCode']>();
  } else if (result.kind === 'network') {
    expectTypeOf(result.error).toEqualTypeOf<Error>();
  }
});
