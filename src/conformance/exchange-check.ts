// Checks of one HTTP exchange against the bundled spec: what a client sent, what a server answered.
import { apiValidator } from '../spec/api-document.js';
import { documentedFailures as failuresOf } from '../spec/failures.js';
import { describeErrors, pointerSegment, type SpecValidator } from '../spec/schema-validator.js';

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

/**
 * Problems with a response to `method path` (`path` as the spec writes it, templates and all),
 * measured against the spec (the public API's unless another is given); empty when it conforms.
 */
export async function responseProblems(
  method: string,
  path: string,
  response: Response,
  validator: SpecValidator = apiValidator,
): Promise<string[]> {
  const pointer = `/paths/${pointerSegment(path)}/${method.toLowerCase()}/responses/${response.status}`;
  const documented = validator.resolve(pointer);
  if (documented.value === undefined) return [`status ${response.status} is not documented for ${method} ${path}`];
  const problems: string[] = [];
  const headers = (documented.value as { headers?: Record<string, unknown> }).headers ?? {};
  for (const name of Object.keys(headers)) {
    const at = validator.resolve(`${documented.pointer}/headers/${pointerSegment(name)}`);
    const header = at.value as { required?: boolean; schema?: { type?: string } };
    const value = response.headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    // A header is text on the wire; an integer header is checked as the number it spells.
    const typed = header.schema?.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
    const validate = validator.schemaAt(validator.resolve(`${at.pointer}/schema`).pointer);
    if (!validate(typed)) problems.push(`header ${name} is ${JSON.stringify(value)}: it ${describeErrors(validate.errors, '').join('; ')}`);
  }
  // An answer the spec gives no content (a 204) must come without a body.
  if (!(documented.value as { content?: unknown }).content) {
    return (await response.clone().text()) === '' ? problems : [...problems, `a body, where the spec documents none for status ${response.status}`];
  }
  const contentType = response.headers.get('content-type') ?? '';
  const validate = validator.responseBody(path, method, response.status, contentType);
  if (!validate) return [...problems, `content type '${contentType}' is not documented for status ${response.status}`];
  let body: unknown;
  // A text answer (Prometheus' format, say) is checked as the string its schema describes.
  if (!/json/i.test(contentType)) body = await response.clone().text();
  else {
    try {
      body = JSON.parse(await response.clone().text());
    } catch {
      return [...problems, 'the body is not JSON'];
    }
  }
  return validate(body) ? problems : [...problems, ...describeErrors(validate.errors)];
}

/** The documented failure examples of a public API operation: status, example name and value. */
export const documentedFailures = (path: string, method: string) => failuresOf(apiValidator, path, method);
