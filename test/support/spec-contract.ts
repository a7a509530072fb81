// Checks of one HTTP exchange against the bundled spec: what a client sent, what a server answered.
import { apiValidator } from '../../src/spec/api-document.js';
import { describeErrors, pointerSegment } from '../../src/spec/schema-validator.js';

/** Problems with a request, measured against the spec; empty when it conforms. */
export async function requestProblems(request: Request): Promise<string[]> {
  const path = new URL(request.url).pathname;
  const operation = apiValidator.operation(path, request.method);
  if (!operation) return [`${request.method} ${path} is not an operation of the spec`];
  const contentType = request.headers.get('content-type') ?? '';
  const validate = apiValidator.requestBody(path, request.method, contentType);
  if (!validate) return [`content type '${contentType}' is not accepted by ${request.method} ${path}`];
  let body: unknown;
  try {
    body = JSON.parse(await request.clone().text());
  } catch {
    return ['the body is not JSON'];
  }
  return validate(body) ? [] : describeErrors(validate.errors);
}

/** Problems with a response to `method path`, measured against the spec; empty when it conforms. */
export async function responseProblems(method: string, path: string, response: Response): Promise<string[]> {
  const pointer = `/paths/${pointerSegment(path)}/${method.toLowerCase()}/responses/${response.status}`;
  const documented = apiValidator.resolve(pointer);
  if (documented.value === undefined) return [`status ${response.status} is not documented for ${method} ${path}`];
  const problems: string[] = [];
  const headers = (documented.value as { headers?: Record<string, unknown> }).headers ?? {};
  for (const name of Object.keys(headers)) {
    const header = apiValidator.resolve(`${documented.pointer}/headers/${pointerSegment(name)}`).value as { required?: boolean };
    if (header.required && !response.headers.has(name)) problems.push(`required header ${name} is missing`);
  }
  const contentType = response.headers.get('content-type') ?? '';
  const validate = apiValidator.responseBody(path, method, response.status, contentType);
  if (!validate) return [...problems, `content type '${contentType}' is not documented for status ${response.status}`];
  let body: unknown;
  try {
    body = JSON.parse(await response.clone().text());
  } catch {
    return [...problems, 'the body is not JSON'];
  }
  return validate(body) ? problems : [...problems, ...describeErrors(validate.errors)];
}

/** The documented failure examples of an operation: status, example name and value. */
export function documentedFailures(path: string, method: string) {
  const operation = apiValidator.operation(path, method)!;
  const responses = `/paths/${pointerSegment(path)}/${method.toLowerCase()}/responses`;
  return Object.keys(operation.responses)
    .filter((status) => Number(status) >= 400)
    .flatMap((status) => {
      const examples = apiValidator.resolve(`${responses}/${status}`).value as {
        content?: Record<string, { examples?: Record<string, unknown> }>;
      };
      return Object.keys(examples.content?.['application/json']?.examples ?? {}).map((name) => {
        const example = apiValidator.resolve(`${responses}/${status}/content/application~1json/examples/${name}`);
        return { status: Number(status), name, value: (example.value as { value: { code: string; message: string } }).value };
      });
    });
}
