// The failures an operation documents, read from the spec: each named example of an error
// response is one failure, named after its `code`.
import { pointerSegment, type SpecValidator } from './schema-validator.js';

export interface DocumentedFailure {
  status: number;
  /** The example's name, which is also its error `code`. */
  name: string;
  value: { code: string; message: string };
}

/** Every failure example documented for `method path`, with its HTTP status. */
export function documentedFailures(validator: SpecValidator, path: string, method: string): DocumentedFailure[] {
  const responses = `/paths/${pointerSegment(path)}/${method.toLowerCase()}/responses`;
  const statuses = Object.keys(validator.operation(path, method)?.responses ?? {}).filter((s) => Number(s) >= 400);
  return statuses.flatMap((status) => {
    const examples = `${responses}/${status}/content/application~1json/examples`;
    const names = Object.keys((validator.resolve(examples).value ?? {}) as Record<string, unknown>);
    return names.map((name) => ({
      status: Number(status),
      name,
      value: (validator.resolve(`${examples}/${pointerSegment(name)}`).value as { value: DocumentedFailure['value'] }).value,
    }));
  });
}

/** The HTTP status of each error code, as the operation documents it. */
export function statusByCode(validator: SpecValidator, path: string, method: string): Map<string, number> {
  return new Map(documentedFailures(validator, path, method).map((f) => [f.value.code, f.status]));
}
