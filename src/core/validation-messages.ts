// A schema failure (Ajv's first error) in words a person understands, with the specific
// documented code when the field has one: sizes are SIZE_INVALID, names NAME_INVALID, part
// numbers PART_NUMBER_INVALID, passwords PASSWORD_INVALID; everything else VALIDATION_FAILED. "body/size must be <=
// 5497558138880" becomes "size must be at most 5.00 TiB (5497558138880 bytes)".

import type { ErrorCode } from './errors.js';
import { formatBytes } from './format.js';

export interface SchemaFailure {
  /** Where: body, querystring, params, headers. */
  context: string;
  /** JSON pointer inside it ('' for the whole part), e.g. /size, /metadata/size. */
  path: string;
  /** Ajv's keyword: maximum, minLength, required, type, additionalProperties, … */
  keyword: string;
  params: Record<string, unknown>;
  /** Ajv's own message, the fallback. */
  message?: string;
}

const FIELD_CODES: Record<string, ErrorCode> = {
  size: 'SIZE_INVALID',
  'metadata[size]': 'SIZE_INVALID',
  name: 'NAME_INVALID',
  filename: 'NAME_INVALID',
  partNumbers: 'PART_NUMBER_INVALID',
  partNumber: 'PART_NUMBER_INVALID',
  password: 'PASSWORD_INVALID',
  'metadata[password]': 'PASSWORD_INVALID',
  'x-password': 'PASSWORD_INVALID',
};

/** Fields counted in bytes: their limits are shown in binary units too. */
const BYTE_FIELDS = new Set(['size', 'metadata[size]', 'partSize', 'maxFileSize']);

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

const typeWords = (t: unknown) =>
  (Array.isArray(t) ? t : String(t).split(','))
    .map((x) => TYPE_WORDS[String(x)] ?? String(x))
    .join(' or ');

export function explainValidation(f: SchemaFailure): { code: ErrorCode; field: string; message: string } {
  const segments = f.path.split('/').filter(Boolean);
  // A missing or unknown property is named by the error, not by the path (which is its parent).
  const named =
    f.keyword === 'required' ? String(f.params.missingProperty ?? '') : f.keyword === 'additionalProperties' ? String(f.params.additionalProperty ?? '') : '';
  const leaf = named || segments.at(-1) || '';
  const field = `${f.context}${f.path}${named && f.keyword === 'required' ? `/${named}` : ''}`;
  const label = leaf ? (segments.length > 1 || (named && segments.length > 0) ? [...segments, ...(named ? [named] : [])].join('.') : leaf) : `the request ${f.context}`;
  const code: ErrorCode = f.keyword === 'additionalProperties' ? 'VALIDATION_FAILED' : (FIELD_CODES[leaf] ?? 'VALIDATION_FAILED');
  const limit = Number(f.params.limit);
  const amount = (n: number) => (BYTE_FIELDS.has(leaf) ? `${formatBytes(n)} (${n} bytes)` : String(n));
  const chars = (n: number) => `${n} character${n === 1 ? '' : 's'}`;

  let message: string;
  switch (f.keyword) {
    case 'maximum':
      message = `${label} must be at most ${amount(limit)}`;
      break;
    case 'exclusiveMaximum':
      message = `${label} must be less than ${amount(limit)}`;
      break;
    case 'minimum':
      message = `${label} must be at least ${amount(limit)}`;
      break;
    case 'exclusiveMinimum':
      message = `${label} must be more than ${amount(limit)}`;
      break;
    case 'minLength':
      message = limit <= 1 ? `${label} must not be empty` : `${label} must be at least ${chars(limit)} long`;
      break;
    case 'maxLength':
      message = `${label} must be at most ${chars(limit)} long`;
      break;
    case 'minItems':
      message = limit <= 1 ? `${label} must not be empty` : `${label} must list at least ${limit} items`;
      break;
    case 'maxItems':
      message = `${label} may list at most ${limit} items`;
      break;
    case 'uniqueItems':
      message = `${label} must not list the same item twice`;
      break;
    case 'type':
      message = `${label} must be ${typeWords(f.params.type)}`;
      break;
    case 'required':
      message = `${label} is required`;
      break;
    case 'additionalProperties':
      message = `unknown field "${label}" in the request ${f.context}`;
      break;
    case 'enum':
      message = `${label} must be one of: ${((f.params.allowedValues as unknown[]) ?? []).map(String).join(', ')}`;
      break;
    case 'const':
      message = `${label} must be ${String(f.params.allowedValue)}`;
      break;
    case 'pattern':
      message = `${label} is not in the expected format`;
      break;
    case 'format':
      message = `${label} must be a valid ${String(f.params.format)}`;
      break;
    default:
      message = `${label} ${f.message ?? 'is invalid'}`;
  }
  return { code, field, message };
}
