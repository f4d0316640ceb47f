import { describe, expect, it } from 'vitest';
import { explainValidation, type SchemaFailure } from '../../src/core/validation-messages.js';

const f = (path: string, keyword: string, params: Record<string, unknown> = {}, context = 'body'): SchemaFailure => ({ context, path, keyword, params });

describe('explainValidation: schema failures in words, with the documented code', () => {
  it.each([
    [f('/size', 'maximum', { limit: 5497558138880 }), 'SIZE_INVALID', 'body/size', 'size must be at most 5.00 TiB (5497558138880 bytes)'],
    [f('/size', 'minimum', { limit: 0 }), 'SIZE_INVALID', 'body/size', 'size must be at least 0 B (0 bytes)'],
    [f('/size', 'type', { type: 'integer' }), 'SIZE_INVALID', 'body/size', 'size must be a whole number'],
    [f('', 'required', { missingProperty: 'size' }), 'SIZE_INVALID', 'body/size', 'size is required'],
    [f('/metadata/size', 'type', { type: 'integer' }), 'SIZE_INVALID', 'body/metadata/size', 'metadata.size must be a whole number'],
    [f('/name', 'minLength', { limit: 1 }), 'NAME_INVALID', 'body/name', 'name must not be empty'],
    [f('/name', 'maxLength', { limit: 1024 }), 'NAME_INVALID', 'body/name', 'name must be at most 1024 characters long'],
    [f('/name', 'minLength', { limit: 1 }, 'params'), 'NAME_INVALID', 'params/name', 'name must not be empty'],
    [f('/filename', 'type', { type: 'string' }, 'querystring'), 'NAME_INVALID', 'querystring/filename', 'filename must be text'],
    [f('/partNumbers', 'maxItems', { limit: 100 }), 'PART_NUMBER_INVALID', 'body/partNumbers', 'partNumbers may list at most 100 items'],
    [f('/partNumbers/3', 'minimum', { limit: 1 }), 'VALIDATION_FAILED', 'body/partNumbers/3', 'partNumbers.3 must be at least 1'],
    [f('', 'additionalProperties', { additionalProperty: 'owner' }), 'VALIDATION_FAILED', 'body', 'unknown field "owner" in the request body'],
    [f('/size', 'additionalProperties', { additionalProperty: 'x' }), 'VALIDATION_FAILED', 'body/size', 'unknown field "size.x" in the request body'],
    [f('', 'type', { type: 'object' }), 'VALIDATION_FAILED', 'body', 'the request body must be an object'],
    [f('/sha256', 'pattern', { pattern: '^[0-9a-f]{64}$' }), 'VALIDATION_FAILED', 'body/sha256', 'sha256 is not in the expected format'],
    [f('/maxDownloads', 'exclusiveMinimum', { limit: 0 }), 'VALIDATION_FAILED', 'body/maxDownloads', 'maxDownloads must be more than 0'],
    [f('/maxDownloads', 'exclusiveMaximum', { limit: 10 }), 'VALIDATION_FAILED', 'body/maxDownloads', 'maxDownloads must be less than 10'],
    [f('/mode', 'enum', { allowedValues: ['a', 'b'] }), 'VALIDATION_FAILED', 'body/mode', 'mode must be one of: a, b'],
    [f('/method', 'const', { allowedValue: 'POST' }), 'VALIDATION_FAILED', 'body/method', 'method must be POST'],
    [f('/url', 'format', { format: 'uri' }), 'VALIDATION_FAILED', 'body/url', 'url must be a valid uri'],
    [f('/ids', 'minItems', { limit: 1 }), 'VALIDATION_FAILED', 'body/ids', 'ids must not be empty'],
    [f('/ids', 'minItems', { limit: 2 }), 'VALIDATION_FAILED', 'body/ids', 'ids must list at least 2 items'],
    [f('/ids', 'uniqueItems', {}), 'VALIDATION_FAILED', 'body/ids', 'ids must not list the same item twice'],
    [f('/name', 'minLength', { limit: 3 }), 'NAME_INVALID', 'body/name', 'name must be at least 3 characters long'],
    [f('/x', 'type', { type: ['string', 'null'] }), 'VALIDATION_FAILED', 'body/x', 'x must be text or null'],
    [f('/flag', 'type', { type: 'boolean' }), 'VALIDATION_FAILED', 'body/flag', 'flag must be true or false'],
    [{ ...f('/x', 'multipleOf', { multipleOf: 2 }), message: 'must be multiple of 2' }, 'VALIDATION_FAILED', 'body/x', 'x must be multiple of 2'],
  ])('%j → %s %s: %s', (failure, code, field, message) => {
    expect(explainValidation(failure)).toEqual({ code, field, message });
  });

  it('never shows a raw JSON pointer or Ajv wording for the common cases', () => {
    const m = explainValidation(f('/size', 'maximum', { limit: 5497558138880 })).message;
    expect(m).not.toMatch(/<=|body\//);
  });
});
